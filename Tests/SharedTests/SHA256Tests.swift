import Shared
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    /// FIPS 180-4 example vectors (NIST CSRC "Example Values": SHA256.pdf) and the padding boundaries
    /// (55, 56, 63, 64 and 65 bytes need one or two final blocks).
    @Test(
        "NIST vectors and padding boundaries",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
            (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
            (String(repeating: "a", count: 65), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        ])
    func vectors(input: String, digest: String) {
        #expect(SHA256.hexDigest(of: Array(input.utf8)) == digest)
    }

    @Test("one million 'a' fed in uneven pieces (NIST long message)")
    func millionA() {
        var hasher = SHA256()
        var fed = 0
        var piece = 1
        while fed < 1_000_000 {
            let count = min(piece, 1_000_000 - fed)
            hasher.update(repeatElement(UInt8(ascii: "a"), count: count))
            fed += count
            piece = piece * 3 % 997 + 1
        }
        #expect(Hex.encode(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("binary input: the 8 little-endian bytes of Int64 123")
    func binary() {
        #expect(SHA256.hash([123, 0, 0, 0, 0, 0, 0, 0]).count == 32)
        #expect(SHA256.hexDigest(of: [123, 0, 0, 0, 0, 0, 0, 0]) == "4f319987a786107dc63b2b70115b3734cb9880b099b70c463c5e1b05521ab764")
    }
}
