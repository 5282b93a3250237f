// Word lists for synthetic names and addresses (with the spelling variety real files have).

enum SampleNames {
    static let first = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
                        "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
                        "Carlos", "Maria", "Wei", "Mei", "Anh", "Priya", "Raj", "Fatima", "Omar", "Sofia", "Diego",
                        "Hannah", "Kevin", "Laura", "Daniel", "Grace", "Ethan", "Olivia", "Noah", "Emma", "Liam", "Ava"]
    static let last = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
                       "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
                       "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Nguyen",
                       "Chen", "Wang", "Patel", "Kim", "Singh", "O'Brien", "Young", "Allen", "King", "Wright", "Scott"]
    static let companies = ["Oakview Holdings LLC", "Bayside Property Trust", "Redwood Rentals LLC",
                            "Summit Family Trust", "Golden Gate Investors, Inc.", "Harbor Homes LP"]
    static let cities = ["Alameda", "Oakland", "Berkeley", "Hayward", "Fremont", "San Leandro", "Castro Valley",
                         "Union City", "Newark", "Pleasanton", "Livermore", "Dublin", "Emeryville", "Albany", "Piedmont"]
    static let mailingCities: [(name: String, state: String, zip: String)] = [
        ("Sacramento", "CA", "95814"), ("Reno", "NV", "89501"), ("Phoenix", "AZ", "85004"),
        ("Portland", "OR", "97204"), ("Austin", "TX", "78701"), ("San Jose", "CA", "95113"),
        ("Seattle", "WA", "98101"), ("Denver", "CO", "80202-1234")]
    static let streets = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lincoln", "Park", "Lake", "Hill",
                          "Sunset", "Highland", "Broadway", "Mission", "Grand", "Shattuck", "College", "Telegraph",
                          "Fruitvale", "MacArthur", "Foothill", "Harbor", "Bay View", "Main", "Market", "Spruce"]
    static let suffixes = ["Street", "St", "St.", "Avenue", "Ave", "AVE.", "Road", "Rd", "Drive", "Dr", "Court", "Ct",
                           "Boulevard", "Blvd", "Lane", "Ln", "Way", "Place", "Pl", "Terrace", "Circle"]
    static let directions = ["N", "North", "S", "South", "E", "East", "W", "West"]

    static func streetAddress(_ random: inout SampleRandom) -> String {
        let number = random.int(1...9999)
        let direction = random.chance(0.12) ? random.pick(directions) + " " : ""
        return "\(number) \(direction)\(random.pick(streets)) \(random.pick(suffixes))"
    }
}
