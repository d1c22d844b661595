import Advocate
import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension AdvocateCommand {
    /// `advocate editors …`
    struct Editors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the accounts that sign in to the editor at /admin.",
            discussion: """
                Passwords are read from standard input (one line; --password-stdin) or asked for on the terminal \
                without echo, never taken as an argument. They are stored as bcrypt hashes (editor.passwordCost).
                """,
            subcommands: [Add.self, List.self, Password.self, Remove.self]
        )
    }
}

extension AdvocateCommand.Editors {
    /// `advocate editors add NAME`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an editor account.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Sign-in name.") var name: String
        @Flag(help: "Read the password from standard input.") var passwordStdin = false

        func validate() throws { try Self.check(name: name) }

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let hash = try EditorAuth.hash(
                    password: try Self.password(stdin: passwordStdin), cost: context.config.editor.passwordCost)
                let editor = try context.openDatabase().addEditor(name: name, passwordHash: hash, now: context.now())
                print("Added editor \(editor.name).")
            }
        }

        static func check(name: String) throws {
            guard (1...64).contains(name.count),
                name.unicodeScalars.allSatisfy({
                    CharacterSet.alphanumerics.contains($0) || "._@-".unicodeScalars.contains($0)
                })
            else { throw ValidationError("name: use 1–64 letters, digits, '.', '_', '@' or '-'") }
        }

        /// The password: one line of standard input, or typed twice on the terminal without echo.
        static func password(stdin: Bool) throws -> String {
            if stdin || isatty(STDIN_FILENO) == 0 {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("no password on standard input")
                }
                return line
            }
            guard let first = getpass("Password: ").map({ String(cString: $0) }),
                let second = getpass("Again: ").map({ String(cString: $0) })
            else { throw ValidationError("no password given") }
            guard first == second else { throw ValidationError("the two passwords differ") }
            return first
        }
    }

    /// `advocate editors list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List editor accounts.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let editors = try global.context().openDatabase().editors()
                if json { return try Output.json(editors) }
                let format = ISO8601DateFormatter()
                Output.table(
                    headers: ["NAME", "SINCE"], rows: editors.map { [$0.name, format.string(from: $0.createdAt)] })
            }
        }
    }

    /// `advocate editors password NAME`
    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password (signs the editor out).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Sign-in name.") var name: String
        @Flag(help: "Read the password from standard input.") var passwordStdin = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let hash = try EditorAuth.hash(
                    password: try Add.password(stdin: passwordStdin), cost: context.config.editor.passwordCost)
                try context.openDatabase().setEditorPassword(name: name, passwordHash: hash)
                print("New password set for \(name); their sessions have ended.")
            }
        }
    }

    /// `advocate editors remove NAME`
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an editor account.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Sign-in name.") var name: String

        func run() throws {
            try reportingErrors {
                try global.context().openDatabase().removeEditor(name: name)
                print("Removed editor \(name).")
            }
        }
    }
}
