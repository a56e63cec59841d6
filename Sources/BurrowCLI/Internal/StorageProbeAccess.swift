import BurrowArchive
import BurrowStorage
import BurrowStore

/// The whiteout format new layers are written in: the store's probe decides.
enum StorageProbeAccess {
    static func whiteouts(_ store: Store) -> WhiteoutFormat {
        StorageProbe.current(store: store).whiteouts
    }
}
