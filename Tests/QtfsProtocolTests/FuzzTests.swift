import Foundation
import XCTest
@testable import QtfsProtocol

/// Mutation fuzzing of the frame and message decoders: frames from the vectors and from
/// Tests/FuzzCorpus are mutated (bit flips, interesting values in length fields, cuts,
/// growth, splices) and fed to the header decoder and every message decoder. Properties:
/// nothing traps, and whatever decodes re-encodes to a value that decodes the same.
///
///   swift test --filter FuzzTests                                   # bounded, runs in CI
///   QTFS_FUZZ_ITERATIONS=5000000 QTFS_FUZZ_SEED=$RANDOM swift test -c release --filter FuzzTests
///   QTFS_FUZZ_SAVE=1 swift test --filter FuzzTests                  # add new outcomes to the corpus
final class FuzzTests: XCTestCase {
    static var corpusDir: String {
        "/" + #filePath.split(separator: "/").dropLast(2).joined(separator: "/") + "/FuzzCorpus"
    }

    struct Decoder { let name: String; let decode: ([UInt8]) throws -> any WirePayload }

    /// One decoder per message type (the samples cover every body of the protocol).
    static let decoders: [Decoder] = {
        var seen = Set<String>(), out: [Decoder] = []
        for s in Samples.all where seen.insert("\(type(of: s.payload))").inserted {
            out.append(Decoder(name: "\(type(of: s.payload))", decode: s.decode))
        }
        return out
    }()

    func seeds() -> [[UInt8]] {
        var out = Samples.all.map { VectorFiles.annotatedFrame($0).bytes }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.corpusDir)) ?? []
        for f in files.sorted() where f.hasSuffix(".bin") {
            if let d = FileManager.default.contents(atPath: "\(Self.corpusDir)/\(f)") { out.append(Array(d)) }
        }
        return out
    }

    func testMutatedFramesNeverTrapAndRoundTrip() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = Int(env["QTFS_FUZZ_ITERATIONS"] ?? "") ?? 20000
        var rng = SplitMix(seed: UInt64(env["QTFS_FUZZ_SEED"] ?? "") ?? 0x5146_5453)
        let save = env["QTFS_FUZZ_SAVE"] == "1"
        let pool = seeds()
        XCTAssertGreaterThan(pool.count, Samples.all.count, "the corpus in Tests/FuzzCorpus is missing")
        var outcomes = Set<String>(), decodedCount = 0
        for _ in 0..<iterations {
            var input = pool[rng.below(pool.count)]
            for _ in 0...rng.below(4) { Mutator.mutate(&input, &rng, pool) }
            let outcome = try check(input, &decodedCount)
            if outcomes.insert(outcome).inserted && save && input.count <= 1024 {
                let hash = input.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
                FileManager.default.createFile(atPath: "\(Self.corpusDir)/\(String(hash, radix: 16)).bin", contents: Data(input))
            }
        }
        XCTAssertGreaterThan(decodedCount, 0, "no mutated input ever decoded: the mutator is too destructive")
        XCTAssertGreaterThan(outcomes.count, 10, "the fuzzer reached too few distinct outcomes")
    }

    /// Runs one input through the header decoder and every message decoder; returns a
    /// short name of what happened (the outcome signature used for the corpus).
    private func check(_ input: [UInt8], _ decodedCount: inout Int) throws -> String {
        guard input.count >= Wire.headerSize else { return "short" }
        let header: FrameHeader
        do {
            header = try input.withUnsafeBytes { try FrameHeader.decode($0) }
        } catch {
            return "header:" + "\(error)".prefix(while: { $0 != "(" })
        }
        XCTAssertLessThanOrEqual(Int(header.length), Wire.maxPayload)
        let payload = Array(input[Wire.headerSize...])
        // Outcome signature: what the frame's own decoder (by kind and opcode) made of it.
        let own = Samples.all.first { $0.kind == header.kind && $0.opcode.rawValue == header.opcode }
        guard own != nil else { return "k\(header.kind.rawValue)-unknown-opcode" }
        var summary = "k\(header.kind.rawValue)-op\(header.opcode)"
        for d in Self.decoders {
            let mine = own.map { "\(type(of: $0.payload))" == d.name } ?? false
            do {
                let v = try d.decode(payload)
                decodedCount += 1
                let again = try d.decode(v.encoded())
                XCTAssertEqual("\(again)", "\(v)", "\(d.name): decode(encode(x)) != x for \(payload)")
                if mine { summary += "-ok" }
            } catch let e as WireError {
                if mine { summary += "-\("\(e)".prefix(while: { $0 != "(" }))-\(e.errno)" }
            }
        }
        return summary
    }
}

/// Small deterministic PRNG, so a failing seed can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

enum Mutator {
    /// Values that sit on the limits the decoders check.
    static let interesting: [UInt32] = [0, 1, 2, 31, 32, 33, 63, 64, 65, 255, 256, 4095, 4096,
                                        0x7fff, 0xffff, 0x10000, 0x110000, 0x110001, 0x7fff_ffff, 0xffff_ffff]

    static func mutate(_ b: inout [UInt8], _ rng: inout SplitMix, _ pool: [[UInt8]]) {
        if b.isEmpty { b = [0]; return }
        let at = rng.below(b.count)
        switch rng.below(8) {
        case 0: b[at] ^= 1 << UInt8(rng.below(8))
        case 1: b[at] = UInt8(truncatingIfNeeded: rng.next())
        case 2, 3:   // a 16- or 32-bit field set to an interesting value, little-endian
            let v = interesting[rng.below(interesting.count)], width = rng.below(2) == 0 ? 2 : 4
            for i in 0..<width where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
        case 4: b.removeSubrange(at...)                                  // cut
        case 5: b += (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }   // grow
        case 6:                                                          // splice another frame's tail
            let other = pool[rng.below(pool.count)]
            b = Array(b[..<at]) + other[min(other.count, at)...]
        default:                                                         // keep the length field honest
            if b.count >= Wire.headerSize {
                let n = UInt32(b.count - Wire.headerSize)
                for i in 0..<4 { b[16 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
            }
        }
    }
}
