/// A value from a user's file, as an error message quotes it: in single quotes, newlines
/// shown as ⏎, and cut to `limit` characters with the count of the rest, so a 5 MB field
/// does not become a 5 MB message.
public enum Excerpt {
    public static func quote(_ value: String, limit: Int = 60) -> String {
        let flat = value.replacingOccurrences(of: "\r\n", with: "⏎").replacingOccurrences(of: "\n", with: "⏎")
        guard flat.count > limit else { return "'\(flat)'" }
        return "'\(flat.prefix(limit))…' (\(flat.count) characters)"
    }

    /// A whole message cut in its middle when it is longer than `limit` characters.
    public static func message(_ text: String, limit: Int = 2000) -> String {
        guard text.count > limit else { return text }
        let half = limit / 2
        return String(text.prefix(half)) + " … (\(text.count - limit) characters cut) … " + String(text.suffix(half))
    }
}
