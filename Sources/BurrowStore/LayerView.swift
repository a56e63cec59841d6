/// Which copy of a layer a container reads. The standard tree holds the
/// owners of the image as the rootless mapping shows them; `--userns=keep-id`
/// maps the user to their own uid, so it reads a copy in which root's files
/// and the user's have traded owners, and every file looks as in the image.
public enum LayerView {
    public static let standard = "root"

    public static func keepID(uid: UInt32, gid: UInt32) -> String { "keep-id-\(uid)-\(gid)" }
}
