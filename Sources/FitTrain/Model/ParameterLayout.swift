/// Where each tensor lives in the one flat parameter buffer (one blob to checkpoint, one
/// loop for AdamW).
public struct ParameterLayout: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public let name: String
        public let offset: Int
        public let shape: [Int]
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    public private(set) var total = 0

    mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = total
        entries.append(Entry(name: name, offset: offset, shape: shape))
        total += shape.reduce(1, *)
        return offset
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}
