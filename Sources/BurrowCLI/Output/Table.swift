/// Left-aligned columns as Docker's tabwriter lays them out (minimum width
/// 10, padding 3): `docker images`, `docker ps`, `docker volume ls`.
struct Table {
    let headers: [String]
    var rows: [[String]] = []

    static let minimumWidth = 10
    static let padding = 3

    init(_ headers: [String]) { self.headers = headers }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 {
                    text += cell
                } else {
                    let width = max(widths[i] + Table.padding, Table.minimumWidth)
                    text += cell + String(repeating: " ", count: width - cell.count)
                }
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
