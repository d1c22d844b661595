import AdvocateCore
import Foundation

/// Builds the Mustache context of the join and preferences forms: the choices offered (with readable labels and
/// the current values ticked), the words of the page's language, and a message per field that has a problem.
struct MemberFormContext {
    let pages: PageRenderer
    let config: AdvocateConfig

    /// The words of `language`, filled with what they mention.
    func words(_ language: Language) -> [String: String] {
        pages.words(
            language,
            [
                "organization": config.organization, "days": config.membership.signupExpiryDays,
                "domains": config.membership.allowedDomains.joined(separator: ", "),
            ])
    }

    /// The context for a form showing `form`'s values in `language`, with `problems` next to their fields.
    func context(_ form: MemberForm, language: Language, problems: FieldProblems?, csrf: String) -> [String: Any] {
        let t = words(language)
        var context: [String: Any] = [
            "lang": language.rawValue, "t": t, "csrf": csrf, "email": form.email, "name": form.name,
            "pausedUntil": form.pausedUntil, "leaderboard": form.leaderboard,
            "languages": Language.allCases.map { code in
                [
                    "code": code.rawValue, "label": code == .nl ? "Nederlands" : "English",
                    "checked": form.language == code.rawValue,
                ] as [String: Any]
            },
            "hasThemes": !config.plan.themes.isEmpty,
            "themes": config.plan.themes.map { theme in
                [
                    "code": theme, "label": config.plan.label(theme: theme, language: language),
                    "checked": form.themes.contains(theme),
                ] as [String: Any]
            },
            "networks": Network.allCases.map { network in
                [
                    "code": network.rawValue, "label": network.displayName,
                    "checked": form.networks.contains(network.rawValue),
                ] as [String: Any]
            },
            "frequencies": Frequency.allCases.map { frequency in
                [
                    "code": frequency.rawValue, "label": t[frequency.rawValue] ?? frequency.rawValue,
                    "checked": form.frequency == frequency.rawValue,
                ] as [String: Any]
            },
        ]
        if let problems {
            context["formError"] = t["errorSummary"]
            for (field, problem) in problems.byField {
                context["\(field)Error"] = t["error.\(problem.rawValue)"] ?? problem.rawValue
            }
        }
        return context
    }

    /// The submitted form, as raw values (nothing is trusted yet).
    static func form(_ fields: MemberFormFields) -> MemberForm {
        MemberForm(
            email: fields.email ?? "", name: fields.name ?? "", language: fields.language ?? "",
            themes: fields.themes ?? [], networks: fields.networks ?? [], frequency: fields.frequency ?? "weekly",
            pausedUntil: fields.pausedUntil ?? "", leaderboard: fields.leaderboard == "on")
    }

    /// The form showing an ambassador's current choices; a pause that ended before `today` is not shown (it no
    /// longer applies, and a day in the past would not pass the checks on the next save).
    static func form(_ ambassador: Ambassador, today: CalendarDay) -> MemberForm {
        let pause = ambassador.schedule.pausedUntil.flatMap { $0 < today ? nil : $0 }
        return MemberForm(
            email: ambassador.email, name: ambassador.name, language: ambassador.language.rawValue,
            themes: ambassador.themes, networks: ambassador.networks.map(\.rawValue),
            frequency: ambassador.schedule.frequency.rawValue, pausedUntil: pause?.description ?? "",
            leaderboard: ambassador.leaderboardOptIn)
    }
}
