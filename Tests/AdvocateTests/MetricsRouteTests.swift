import Foundation
import Testing

@testable import Advocate

@Suite("Route labels of logs and metrics")
struct MetricsRouteTests {
    @Test(
        "a path's label is its first segment when it is one of the server's, else other; never a token",
        arguments: [
            ("/s/AbCdEf", "/s/…"), ("/l/x/y", "/l/…"), ("//t/x", "/t/…"), ("/admin", "/admin/…"),
            ("/healthz", "/healthz/…"), ("/", "/"), ("", "/"), ("///", "/"), ("/sx/1", "other"),
            ("/S/x", "other"), ("/ü/x", "other"), ("/join/", "/join/…"),
        ])
    func label(path: String, label: String) {
        #expect(AdvocateMetrics.route(of: path) == label)
    }
}
