/// The qtfs-swift release every component reports.
public enum QtfsVersion {
    public static let release = "0.1.0"
    public static let text = "qtfs-swift \(release), wire protocol v1"
}
