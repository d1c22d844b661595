/// The one definition of a share: an ambassador sharing one item on one network from one digest week, counted
/// once however often they click. Every click on a share button or on the post's link carries its share's key,
/// fixed when the click is stored, so a share keeps counting after its item or ambassador is removed, and
/// reports, the digest's results, goals and the dashboard all count the same thing: distinct keys.
public enum ShareKey {
    /// The key of a share: a stable 64-bit FNV-1a hash of its four parts (the same in every process and version).
    public static func of(ambassadorID: Int64, itemID: Int64, network: Network, week: ISOWeek) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= (value >> UInt64(shift)) & 0xFF
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        mix(UInt64(bitPattern: ambassadorID))
        mix(UInt64(bitPattern: itemID))
        mix(UInt64(network.code))
        mix(UInt64(week.year * 64 + week.week))
        return Int64(bitPattern: hash)
    }
}
