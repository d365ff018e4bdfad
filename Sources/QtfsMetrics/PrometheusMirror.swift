// The Prometheus view of a component's statistics: every recorded request also goes to
// swift-metrics objects made by a PrometheusMetricsFactory (not bootstrapped globally),
// which swift-prometheus renders as text. Only built when the operator asks for it, so
// the mutex inside a Prometheus histogram is paid only then.
import CoreMetrics
import Prometheus
import QtfsControl
import Synchronization

public final class PrometheusMirror: StatsMirror {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let requests: [String: CoreMetrics.Counter]
    private let timers: [String: CoreMetrics.Timer]
    private let errors = Mutex<[String: CoreMetrics.Counter]>([:])
    private let prefix: String

    /// Latency buckets of the exported histograms.
    static let buckets: [Duration] = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000,
                                      100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000]
        .map { Duration.microseconds($0) }

    /// `prefix` names the metrics: PREFIX_requests_total{op}, PREFIX_request_errors_total{op,errno},
    /// PREFIX_request_duration_seconds{op} (histogram).
    public init(prefix: String, ops: [String?]) {
        self.prefix = prefix
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = PrometheusMirror.buckets
        factory = f
        var requests: [String: CoreMetrics.Counter] = [:], timers: [String: CoreMetrics.Timer] = [:]
        for op in ops.compactMap({ $0 }) {
            requests[op] = Counter(label: "\(prefix)_requests_total", dimensions: [("op", op)], factory: f)
            timers[op] = Timer(label: "\(prefix)_request_duration_seconds", dimensions: [("op", op)], factory: f)
        }
        self.requests = requests
        self.timers = timers
    }

    public func record(op: String, errno: Int32, nanos: UInt64) {
        requests[op]?.increment()
        timers[op]?.recordNanoseconds(Int64(clamping: nanos))
        guard errno != 0 else { return }
        errorCounter(op, ErrnoNames.name(errno)).increment()
    }

    private func errorCounter(_ op: String, _ errno: String) -> CoreMetrics.Counter {
        errors.withLock { cache in
            let key = "\(op)/\(errno)"
            if let c = cache[key] { return c }
            let c = Counter(label: "\(prefix)_request_errors_total", dimensions: [("op", op), ("errno", errno)], factory: factory)
            cache[key] = c
            return c
        }
    }

    /// A gauge set at scrape time.
    public func gauge(_ name: String) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "\(prefix)_\(name)", factory: factory)
    }
}
