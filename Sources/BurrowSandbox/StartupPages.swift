import CBurrowMonitor

/// Long-lived helpers (a container's monitor, the namespace keeper) need
/// little of burrow's code once started: its pages are let go.
public enum StartupPages {
    public static func release() {
        _ = burrow_release_code_pages()
    }
}
