// HKDF-SHA256 (RFC 5869) over the project's own HMAC: the session keys of sealed frames.

enum HKDF {
    static func extract(salt: [UInt8], keyMaterial: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(key: salt, keyMaterial)
    }

    /// Output of `count` bytes (at most 255 blocks of 32).
    static func expand(prk: [UInt8], info: [UInt8], count: Int) -> [UInt8] {
        precondition(count > 0 && count <= 255 * SHA256.digestSize)
        var out: [UInt8] = []
        var block: [UInt8] = []
        var n: UInt8 = 1
        while out.count < count {
            block = HMACSHA256.mac(key: prk, block + info + [n])
            out += block
            n &+= 1
        }
        return Array(out.prefix(count))
    }
}
