import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A persistent team of worker threads for the kernels' parallel regions (llama.cpp's ggml threadpool,
/// OpenMP's `parallel`): a decode step opens ~100 regions per token, each a few tens of microseconds
/// of work, and handing each to Dispatch costs a thread wake-up every time. The team's threads spin on
/// a generation counter between regions and go to sleep on a condition variable only after
/// `spinNanoseconds` without work, so an idle server costs no CPU.
///
/// A region's parts are claimed from a counter, the calling thread included, so a team thread that the
/// OS has not scheduled (a loaded host) costs nothing: the caller runs its part too, as Dispatch would.
/// One region runs at a time: `run` returns false (and runs nothing) when the team is busy — a region
/// opened from inside another, or from a second thread — and the caller falls back to Dispatch.
final class WorkerTeam: @unchecked Sendable {
    /// Threads that can take part: the calling thread and `size − 1` team threads.
    let size: Int
    static let spinNanoseconds: UInt64 = 50_000

    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let finishedParts = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    /// Team threads inside `runParts`: a region ends only when none is, so a thread that claimed late
    /// cannot run a part of the next region under the last one's number.
    private let active = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The current region's body and part count, written before `nextPart` is reset (release) and read
    /// only by a thread that has claimed a part (acquire); the caller returns only after every claimed
    /// part has finished, so the body (a pointer into the caller's frame) outlives every use.
    private let job: UnsafeMutablePointer<Job>
    private let wake: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeCondition: UnsafeMutablePointer<pthread_cond_t>

    private struct Job {
        var body: UnsafePointer<(Int) -> Void>?
        var parts = 0
    }

    init(size: Int) {
        precondition(size >= 1, "WorkerTeam: size \(size)")
        self.size = size
        job = .allocate(capacity: 1)
        job.initialize(to: Job())
        wake = .allocate(capacity: 1)
        wakeCondition = .allocate(capacity: 1)
        pthread_mutex_init(wake, nil)
        pthread_cond_init(wakeCondition, nil)
        // A claim before the first region finds nothing to do.
        nextPart.store(Int.max / 2, ordering: .relaxed)
        for _ in 1..<size { startThread() }
    }

    /// Calls `body(p)` once for each p in 0..<parts, on this thread and the team's, and returns when all
    /// are done; false without calling anything if the team is busy or `parts` exceeds its size.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard parts <= size, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in withUnsafePointer(to: body) { body in
            job.pointee = Job(body: body, parts: parts)
            finishedParts.store(0, ordering: .relaxed)
            nextPart.store(0, ordering: .releasing)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(wake)
                pthread_cond_broadcast(wakeCondition)
                pthread_mutex_unlock(wake)
            }
            runParts()
            var spins = 0
            while finishedParts.load(ordering: .acquiring) < parts {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
            }
            nextPart.store(Int.max / 2, ordering: .sequentiallyConsistent)
            while active.load(ordering: .sequentiallyConsistent) > 0 {}
            job.pointee.body = nil
        } }
        return true
    }

    /// Claims and runs parts of the current region until none is left.
    private func runParts() {
        while true {
            let part = nextPart.add(1, ordering: .sequentiallyConsistent).oldValue
            guard part < job.pointee.parts else { return }
            job.pointee.body!.pointee(part)
            finishedParts.add(1, ordering: .releasing)
        }
    }

    private func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<WorkerTeam>.fromOpaque(raw!).takeRetainedValue().work()
            return nil
        }, context)
        precondition(status == 0, "WorkerTeam: pthread_create failed (\(status))")
        pthread_detach(thread)
    }

    /// A team thread's life: wait for a new generation, help with its parts.
    private func work() {
        // Generation 0 is the team's creation: a region published before this thread got here is not missed.
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            active.add(1, ordering: .sequentiallyConsistent)
            runParts()
            active.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Spins until the generation moves past `seen`, then sleeps until it does; returns the new one.
    private func waitForGeneration(after seen: Int) -> Int {
        let start = Self.now()
        var spins = 0
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            spins += 1
            if spins & 4095 == 0 && Self.now() - start > Self.spinNanoseconds { break }
        }
        pthread_mutex_lock(wake)
        defer { pthread_mutex_unlock(wake) }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
        while true {
            let g = generation.load(ordering: .sequentiallyConsistent)
            if g != seen { return g }
            pthread_cond_wait(wakeCondition, wake)
        }
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
