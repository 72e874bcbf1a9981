import Dispatch
import Foundation

/// Work splitting for the kernels and for BLAS (which runs single-threaded inside each worker).
/// The default uses every core; `--threads` sets it.
public enum Parallel {
    nonisolated(unsafe) public static var threads: Int = ProcessInfoCores.count

    /// Calls `body(range)` for contiguous, disjoint ranges covering 0..<count, one per worker, and
    /// waits for all. Ranges are multiples of `granularity` except the last.
    public static func forEachRange(_ count: Int, granularity: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        let blocks = (count + granularity - 1) / granularity
        let workers = Swift.min(threads, blocks)
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let part = { (w: Int) in
            let lo = blocks * w / workers * granularity
            let hi = Swift.min(count, blocks * (w + 1) / workers * granularity)
            if lo < hi { body(lo..<hi) }
        }
        if useTeam, team.run(parts: workers, part) { return }
        DispatchQueue.concurrentPerform(iterations: workers, execute: part)
    }

    /// The persistent threads the regions run on (one per core, the caller included); Dispatch takes
    /// a region the team cannot (nested, concurrent, or more parts than cores).
    static let team = WorkerTeam(size: ProcessInfoCores.count)
    static let useTeam = ProcessInfo.processInfo.environment["REMAMBA_PARALLEL"] != "dispatch"
}

enum ProcessInfoCores {
    static var count: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
