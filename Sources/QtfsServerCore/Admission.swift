// Who may connect: the pre-shared key and the client address allow-list, built once
// from the configuration (errors say what to fix).
import Logging
import QtfsAuth

final class Admission: @unchecked Sendable {
    /// nil: no authentication (`--no-auth`, or a library user without a key file).
    let key: AuthKey?
    let allowList: AddressAllowList
    /// Whether frames after authentication are sealed (ServerConfig.crypt, resolved).
    let crypt: CryptMode

    init(_ config: ServerConfig) throws {
        if let path = config.authKeyFile {
            do { key = try AuthKey.load(path: path) } catch let e as AuthKeyError { throw ConfigError(e.description) }
        } else {
            key = nil
        }
        allowList = try AddressAllowList(config.allowedClients)
        crypt = try CryptMode.effective(config.crypt, hasKey: key != nil)
    }
}
