using System.Buffers.Binary;

namespace DePin.Settlement.Merkle;

/// <summary>
/// A 32-byte hash held as four little-endian 64-bit lanes (byte i of the hash is byte i%8 of lane i/8),
/// which is the native Keccak state layout. Ordering (<see cref="CompareTo"/>) is the lexicographic byte order
/// of the hash, the order OpenZeppelin uses for sorted leaves and sorted pairs.
/// </summary>
public readonly record struct Hash256(ulong L0, ulong L1, ulong L2, ulong L3) : IComparable<Hash256>
{
    /// <summary>Reads 32 bytes.</summary>
    public static Hash256 FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32) throw new ArgumentException($"A hash must be 32 bytes, got {bytes.Length}.", nameof(bytes));
        return new Hash256(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[..8]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..16]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..24]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..32]));
    }

    /// <summary>Parses 0x-prefixed (or bare) 64-hex-digit text.</summary>
    public static Hash256 FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var s = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (s.Length != 64) throw new ArgumentException($"A hash must be 32 bytes (64 hex digits), got '{hex}'.", nameof(hex));
        try
        {
            return FromBytes(Convert.FromHexString(s));
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"'{hex}' is not valid hex.", nameof(hex), e);
        }
    }

    /// <summary>Writes the 32 bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination[..8], L0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..16], L1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..24], L2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..32], L3);
    }

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[32];
        WriteTo(b);
        return b;
    }

    /// <summary>Lower-case 0x-prefixed hex, as the JS tooling prints it.</summary>
    public string ToHex()
    {
        Span<byte> b = stackalloc byte[32];
        WriteTo(b);
        return "0x" + Convert.ToHexStringLower(b);
    }

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <summary>Lexicographic byte order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int CompareTo(Hash256 other)
    {
        int c = BinaryPrimitives.ReverseEndianness(L0).CompareTo(BinaryPrimitives.ReverseEndianness(other.L0));
        if (c != 0) return c;
        c = BinaryPrimitives.ReverseEndianness(L1).CompareTo(BinaryPrimitives.ReverseEndianness(other.L1));
        if (c != 0) return c;
        c = BinaryPrimitives.ReverseEndianness(L2).CompareTo(BinaryPrimitives.ReverseEndianness(other.L2));
        if (c != 0) return c;
        return BinaryPrimitives.ReverseEndianness(L3).CompareTo(BinaryPrimitives.ReverseEndianness(other.L3));
    }

    /// <summary>OpenZeppelin's commutative node hash: keccak256 of the two children in ascending order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Hash256 HashPair(in Hash256 a, in Hash256 b) =>
        a.CompareTo(b) <= 0 ? Keccak256.Hash64(a, b) : Keccak256.Hash64(b, a);
}
