/// The SQL side of ``ShareKey``: the one way reports, the digest's results, goals and the dashboard count shares.
/// A share is a distinct `shareKey` among human share clicks; a sharer is a distinct (still known) ambassador.
enum ShareSQL {
    /// Human clicks on share buttons.
    static let humanShares = "kind = 'share' AND class = 'human'"
    /// The number of shares among the rows of a query over `click` (human clicks only must be filtered around it).
    static let count = "COUNT(DISTINCT CASE WHEN kind = 'share' THEN shareKey END)"
}
