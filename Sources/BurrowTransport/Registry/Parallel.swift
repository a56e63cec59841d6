import Glibc
import Synchronization

/// Runs `body(0..<count)` on up to `width` threads of their own and returns
/// when all are done, throwing the first error. Downloads block on sockets,
/// so they get real threads rather than a pool sized to the CPUs.
enum Parallel {
    private final class Work: @unchecked Sendable {
        let count: Int
        let body: (Int) throws -> Void
        let next = Mutex(0)
        let failure = Mutex<Error?>(nil)

        init(count: Int, body: @escaping (Int) throws -> Void) {
            self.count = count
            self.body = body
        }

        func drain() {
            while true {
                let index: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                if index >= count || failure.withLock({ $0 != nil }) { return }
                do {
                    try body(index)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
    }

    static func run(count: Int, width: Int, _ body: @escaping (Int) throws -> Void) throws {
        let work = Work(count: count, body: body)
        var threads: [pthread_t] = []
        for _ in 1..<max(1, min(width, count)) {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(work).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
                work.drain()
                return nil
            }, context)
            if rc == 0 { threads.append(thread) } else { Unmanaged<Work>.fromOpaque(context).release() }
        }
        work.drain()
        for thread in threads { pthread_join(thread, nil) }
        if let error = work.failure.withLock({ $0 }) { throw error }
    }
}

/// Hands progress from several threads to one LoadProgress, one call at a time.
final class SerializedProgress: LoadProgress, @unchecked Sendable {
    let inner: LoadProgress
    private let lock = Mutex(())

    init(_ inner: LoadProgress) { self.inner = inner }

    func started(_ item: String, total: Int64?) { lock.withLock { _ in inner.started(item, total: total) } }
    func advanced(_ item: String, done: Int64) { lock.withLock { _ in inner.advanced(item, done: done) } }
    func finished(_ item: String, note: String) { lock.withLock { _ in inner.finished(item, note: note) } }
    func warning(_ text: String) { lock.withLock { _ in inner.warning(text) } }
}
