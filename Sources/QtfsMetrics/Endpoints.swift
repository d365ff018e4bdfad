// A component's side doors: the control socket for qtinfo (always; failing to create it
// is logged, not fatal, so diagnostics never stop the file service) and, when asked for,
// the Prometheus endpoint.
import Logging
import QtfsControl

public struct Endpoints {
    public let control: ControlServer?
    public let metrics: MetricsEndpoint?

    public static func start(_ target: ControlTarget, metricsAddress: String?, mirror: PrometheusMirror?,
                             logger: Logger) throws -> Endpoints {
        var control: ControlServer?
        do {
            control = try ControlServer(target: target, logger: logger)
        } catch {
            logger.warning("no control endpoint: qtinfo will not see this process", metadata: ["error": "\(error)"])
        }
        guard let mirror, let metricsAddress else { return Endpoints(control: control, metrics: nil) }
        let connections = mirror.gauge("connections"), inFlight = mirror.gauge("requests_in_flight")
        do {
            let metrics = try MetricsEndpoint(address: metricsAddress, mirror: mirror, logger: logger) {
                let s = target.status()
                connections.record(s.connections.count)
                inFlight.record(Int64(s.requestsInFlight))
            }
            return Endpoints(control: control, metrics: metrics)
        } catch {
            control?.stop()
            throw error
        }
    }

    public func stop() {
        metrics?.stop()
        control?.stop()
    }
}
