/// Maps class names to filesystem-safe class-folder names (docs/datasets.md, "Folder names").
///
/// The mapping: lower-case the name, then replace every Unicode scalar outside
/// `a-z 0-9 - _` with `_`. So "T-shirt/top" becomes `t-shirt_top` and "Ankle boot"
/// `ankle_boot`. Lower case keeps folders distinct on case-insensitive filesystems;
/// `.` is replaced so no folder can be hidden or be `.`/`..`. The class's display name
/// stays in dataset.json.
public enum FolderName {
    public static func folder(forClassName name: String) -> String {
        let mapped = String(String.UnicodeScalarView(name.lowercased().unicodeScalars.map { scalar in
            isAllowed(scalar) ? scalar : "_"
        }))
        return mapped.isEmpty ? "_" : mapped
    }

    /// Whether `folder` may name a class folder in a tree: non-empty, only
    /// `A-Z a-z 0-9 . - _`, and not starting with `.` (hidden names such as `.cache`
    /// belong to the harness). Hand-made trees may use upper case and dots.
    public static func isValid(_ folder: String) -> Bool {
        guard let first = folder.unicodeScalars.first, first != "." else { return false }
        return folder.unicodeScalars.allSatisfy { isAllowed($0) || ("A"..."Z").contains($0) || $0 == "." }
    }

    static func isAllowed(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("0"..."9").contains(s) || s == "-" || s == "_"
    }
}
