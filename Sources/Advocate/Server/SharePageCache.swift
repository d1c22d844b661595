import AdvocateCore
import Synchronization

/// The share page of each language and network, rendered once with markers in the personal places (the item's title,
/// the text, the network's dialog URL and the press URL) and filled per request: a string join instead of a Mustache
/// render on every click of a LinkedIn or Facebook button.
final class SharePageCache: Sendable {
    private struct Key: Hashable {
        var language: Language
        var network: Network
    }

    private let skeletons = Mutex<[Key: Skeleton]>([:])

    /// The filled page; `render` renders the template with ``Skeleton/marker(_:)`` 0…3 for title, text, url and
    /// pressed, and runs once per language and network.
    func page(
        language: Language, network: Network, title: String, text: String, url: String, pressed: String,
        render: (_ markers: [String]) -> String
    ) -> String {
        let key = Key(language: language, network: network)
        let skeleton =
            skeletons.withLock { $0[key] }
            ?? {
                let made = Skeleton(rendered: render((0..<4).map(Skeleton.marker)))
                skeletons.withLock { $0[key] = made }
                return made
            }()
        return skeleton.fill([title.htmlEscaped, text.htmlEscaped, url.htmlEscaped, pressed.htmlEscaped])
    }
}
