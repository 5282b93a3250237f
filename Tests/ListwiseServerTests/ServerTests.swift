import XCTest
@testable import ListwiseServer
