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

    /// Read bandwidth in GB/s, as a tuned C read loop measures it: a 64-byte-aligned buffer much larger
    /// than the caches, one contiguous part per worker, each summed with four independent 16-lane
    /// accumulators (so the adds never wait on each other); the best of a few passes. The access pattern of
    /// a decode step streaming its weights. (Cross-checked against gcc -O3 -march=native STREAM-style
    /// code: see README, Speed.)
    public static func readBandwidthGBps(megabytes: Int = 512, repeats: Int = 5) -> Double {
        let vectors = megabytes << 14  // 64-byte vectors
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: vectors * 64, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: Float.self, repeating: 1, count: vectors * 16)
        let base = SendablePointer(buffer)
        var best = Double.infinity
        var sink: Float = 0
        let workers = Parallel.threads
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: workers)
        defer { sums.deallocate() }
        let out = SendablePointer(sums)
        for _ in 0..<repeats {
            let t = seconds {
                Parallel.forEachRange(workers) { range in
                    for worker in range {
                        let lo = vectors * worker / workers, hi = vectors * (worker + 1) / workers
                        let p = UnsafeRawPointer(base.p).assumingMemoryBound(to: Float32x16.self)
                        var a0 = Float32x16(), a1 = Float32x16(), a2 = Float32x16(), a3 = Float32x16()
                        var i = lo
                        while i + 4 <= hi {
                            a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3]
                            i += 4
                        }
                        while i < hi { a0 += p[i]; i += 1 }
                        out.p[worker] = ((a0 + a1) + (a2 + a3)).sum()
                    }
                }
            }
            sink += sums[0]
            best = min(best, t)
        }
        if sink == -1 { print(sink) }  // keeps the reads from being optimized away
        return Double(vectors * 64) / best / 1e9
    }

    /// The median of `repeats` timings of `body`, after one untimed warm-up run.
    public static func medianSeconds(repeats: Int = 3, _ body: () -> Void) -> Double {
        body()
        let times = (0..<max(repeats, 1)).map { _ in seconds(body) }.sorted()
        return times[times.count / 2]
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

    /// Starts the peak-resident count (VmHWM) again from the current RSS (Linux: /proc/self/clear_refs),
    /// so that a benchmark's peak is its own, not its probes'. False where that is not possible.
    @discardableResult
    public static func resetPeakResident() -> Bool {
        FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs")
            && (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// How the hand-written kernels (TensorCore) were compiled: Package.swift adds `-target-cpu` only when the
    /// top-level build sets REMAMBA_TARGET_CPU (scripts/env.sh sets `native`), and names the int8 dot-product
    /// instructions that CPU has (the Q8_0 kernels, `Q8Dot`).
    public static var kernelBuild: String {
        #if REMAMBA_TARGET_CPU_native
        let cpu = "swiftc -target-cpu native (this machine's full vector ISA)"
        #elseif REMAMBA_TARGET_CPU_SET
        let cpu = "swiftc with a custom REMAMBA_TARGET_CPU"
        #else
        let cpu = "swiftc without -target-cpu (baseline ISA: REMAMBA_TARGET_CPU was not set; source scripts/env.sh)"
        #endif
        #if arch(x86_64) && REMAMBA_AVX512_VNNI
        return cpu + ", Q8_0 int8 dot products: AVX-512 VNNI"
        #elseif arch(x86_64) && REMAMBA_AVX2
        return cpu + ", Q8_0 int8 dot products: AVX2"
        #else
        return cpu + ", Q8_0 int8 dot products: portable Swift"
        #endif
    }
}
