// The feature matrix as CSV (`listwise features`): raw values, empty for missing.
import Foundation

public enum FeatureCSV {
    public static func render(_ table: FeatureTable, asOf: String) -> String {
        var out = "property_id,as_of,label,on_market," + RawFeature.allCases.map(\.name).joined(separator: ",") + "\n"
        for row in 0..<table.count {
            var fields = [csvQuoted(table.propertyIDs[row]), asOf,
                          table.label[row].isNaN ? "" : String(Int(table.label[row])), table.onMarket[row] ? "1" : "0"]
            for feature in RawFeature.allCases {
                let value = table.values[feature.rawValue][row]
                if value.isNaN { fields.append("") } else if feature == .propertyType {
                    fields.append(RawFeature.propertyTypes[Int(value)])
                } else {
                    fields.append(value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value))
                }
            }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }
}
