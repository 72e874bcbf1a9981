import Foundation

/// The machine's own limits, measured, so benchmarks can report fractions of what the hardware allows.
public enum MachineLimits {
    /// Best of a few runs of a square Float32 GEMM through OpenBLAS, in GFLOP/s.
    public static func gemmGFLOPS(size n: Int = 2048, repeats: Int = 5) -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = Tensor.randomNormal([n, n], generator: &generator)
        let b = Tensor.randomNormal([n, n], generator: &generator)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for _ in 0..<repeats {
                        let t = seconds {
                            BLAS.gemm(m: n, n: n, k: n, a: ap.baseAddress!, b: bp.baseAddress!, transposeB: true, c: cp.baseAddress!)
                        }
                        best = min(best, t)
                    }
                }
            }
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    /// Read bandwidth in GB/s: every worker sums its share of a buffer much larger than the caches
    /// (best of a few passes), the access pattern of a decode step reading the weights.
    public static func readBandwidthGBps(megabytes: Int = 512, repeats: Int = 5) -> Double {
        let count = megabytes << 18  // Float32 values
        let buffer = [Float](repeating: 1, count: count)
        var best = Double.infinity
        var sink: Float = 0
        buffer.withUnsafeBufferPointer { p in
            for _ in 0..<repeats {
                // One slot per possible range start (ranges start at multiples of the granularity).
                let partial = UnsafeMutablePointer<Float>.allocate(capacity: count / 16 / 1024 + 1)
                partial.initialize(repeating: 0, count: count / 16 / 1024 + 1)
                defer { partial.deallocate() }
                let t = seconds {
                    Parallel.forEachRange(count / 16, granularity: 1024) { range in
                        var acc = Float16x()
                        let raw = UnsafeRawPointer(p.baseAddress!)
                        for i in range { acc += raw.loadUnaligned(fromByteOffset: i * 64, as: Float16x.self) }
                        partial[range.lowerBound / 1024] = acc.sum()
                    }
                }
                sink += partial[0]
                best = min(best, t)
            }
        }
        if sink == -1 { print(sink) }  // keeps the reads from being optimized away
        return Double(count * 4) / best / 1e9
    }

    public static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The machine's physical memory in bytes (sysconf), what a model's weights must fit in.
    public static var physicalMemoryBytes: Int {
        CheckedSize.product(max(sysconf(Int32(_SC_PHYS_PAGES)), 0), max(sysconf(Int32(_SC_PAGESIZE)), 0)) ?? Int.max
    }

    /// Peak resident memory of this process (VmHWM), in bytes.
    public static var peakResidentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    /// How the hand-written kernels were compiled (Package.swift, REMAMBA_TARGET_CPU).
    public static var kernelBuild: String {
        #if REMAMBA_TARGET_CPU_native
        return "swiftc -target-cpu native (this machine's full vector ISA)"
        #elseif REMAMBA_TARGET_CPU_x86_64_v3
        return "swiftc -target-cpu x86-64-v3 (AVX2)"
        #else
        return "swiftc with a custom REMAMBA_TARGET_CPU"
        #endif
    }
}
