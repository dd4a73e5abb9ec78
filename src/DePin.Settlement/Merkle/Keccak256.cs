using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DePin.Settlement.Merkle;

/// <summary>
/// Allocation-free Keccak-256 (the original Keccak padding used by Ethereum, NOT NIST SHA3-256).
/// Hand-written because Merkle tree construction hashes ~3 values per leaf and the 100k-leaf budget
/// is 1 s; the hot paths hash 32/64-byte inputs held as 4 little-endian 64-bit lanes (<see cref="Hash256"/>).
/// Cross-checked against Nethereum's Sha3Keccack in the tests.
/// </summary>
public static class Keccak256
{
    private const int RateBytes = 136;
    private const int RateLanes = RateBytes / 8;

    private static readonly ulong[] RoundConstants =
    [
        0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808aUL, 0x8000000080008000UL,
        0x000000000000808bUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
        0x000000000000008aUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000aUL,
        0x000000008000808bUL, 0x800000000000008bUL, 0x8000000000008089UL, 0x8000000000008003UL,
        0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800aUL, 0x800000008000000aUL,
        0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL,
    ];

    /// <summary>Keccak-256 of arbitrary bytes.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var output = new byte[32];
        Hash(data, output);
        return output;
    }

    /// <summary>Keccak-256 of arbitrary bytes into a 32-byte destination.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < 32) throw new ArgumentException("Destination must hold 32 bytes.", nameof(destination));
        Span<ulong> state = stackalloc ulong[25];
        state.Clear();
        while (data.Length >= RateBytes)
        {
            for (int i = 0; i < RateLanes; i++) state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 8, 8));
            Permute(state);
            data = data[RateBytes..];
        }
        Span<byte> last = stackalloc byte[RateBytes];
        last.Clear();
        data.CopyTo(last);
        last[data.Length] ^= 0x01;
        last[RateBytes - 1] ^= 0x80;
        for (int i = 0; i < RateLanes; i++) state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(last.Slice(i * 8, 8));
        Permute(state);
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(i * 8, 8), state[i]);
    }

    /// <summary>Keccak-256 of the 32 bytes of <paramref name="a"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Hash256 Hash32(in Hash256 a)
    {
        Span<ulong> s = stackalloc ulong[25];
        s.Clear();
        s[0] = a.L0; s[1] = a.L1; s[2] = a.L2; s[3] = a.L3;
        s[4] = 0x01UL;
        s[RateLanes - 1] = 0x80UL << 56;
        Permute(s);
        return new Hash256(s[0], s[1], s[2], s[3]);
    }

    /// <summary>Keccak-256 of the 64 bytes <paramref name="a"/> || <paramref name="b"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Hash256 Hash64(in Hash256 a, in Hash256 b)
    {
        Span<ulong> s = stackalloc ulong[25];
        s.Clear();
        s[0] = a.L0; s[1] = a.L1; s[2] = a.L2; s[3] = a.L3;
        s[4] = b.L0; s[5] = b.L1; s[6] = b.L2; s[7] = b.L3;
        s[8] = 0x01UL;
        s[RateLanes - 1] = 0x80UL << 56;
        Permute(s);
        return new Hash256(s[0], s[1], s[2], s[3]);
    }

    /// <summary>Keccak-f[1600] permutation (24 rounds), state as 25 little-endian lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Permute(Span<ulong> state)
    {
        if (state.Length < 25) throw new ArgumentException("State must have 25 lanes.", nameof(state));
        ref ulong st = ref MemoryMarshal.GetReference(state);
        ulong a00 = st, a01 = Unsafe.Add(ref st, 1), a02 = Unsafe.Add(ref st, 2), a03 = Unsafe.Add(ref st, 3), a04 = Unsafe.Add(ref st, 4);
        ulong a05 = Unsafe.Add(ref st, 5), a06 = Unsafe.Add(ref st, 6), a07 = Unsafe.Add(ref st, 7), a08 = Unsafe.Add(ref st, 8), a09 = Unsafe.Add(ref st, 9);
        ulong a10 = Unsafe.Add(ref st, 10), a11 = Unsafe.Add(ref st, 11), a12 = Unsafe.Add(ref st, 12), a13 = Unsafe.Add(ref st, 13), a14 = Unsafe.Add(ref st, 14);
        ulong a15 = Unsafe.Add(ref st, 15), a16 = Unsafe.Add(ref st, 16), a17 = Unsafe.Add(ref st, 17), a18 = Unsafe.Add(ref st, 18), a19 = Unsafe.Add(ref st, 19);
        ulong a20 = Unsafe.Add(ref st, 20), a21 = Unsafe.Add(ref st, 21), a22 = Unsafe.Add(ref st, 22), a23 = Unsafe.Add(ref st, 23), a24 = Unsafe.Add(ref st, 24);

        for (int round = 0; round < 24; round++)
        {
            // theta
            ulong c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
            ulong c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
            ulong c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
            ulong c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
            ulong c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
            ulong d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            ulong d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            ulong d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            ulong d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            ulong d4 = c3 ^ BitOperations.RotateLeft(c0, 1);

            // rho + pi: b[y + 5*((2x+3y)%5)] = rotl(a[x+5y] ^ d[x], r[x,y])
            ulong b00 = a00 ^ d0;
            ulong b10 = BitOperations.RotateLeft(a01 ^ d1, 1);
            ulong b20 = BitOperations.RotateLeft(a02 ^ d2, 62);
            ulong b05 = BitOperations.RotateLeft(a03 ^ d3, 28);
            ulong b15 = BitOperations.RotateLeft(a04 ^ d4, 27);
            ulong b16 = BitOperations.RotateLeft(a05 ^ d0, 36);
            ulong b01 = BitOperations.RotateLeft(a06 ^ d1, 44);
            ulong b11 = BitOperations.RotateLeft(a07 ^ d2, 6);
            ulong b21 = BitOperations.RotateLeft(a08 ^ d3, 55);
            ulong b06 = BitOperations.RotateLeft(a09 ^ d4, 20);
            ulong b07 = BitOperations.RotateLeft(a10 ^ d0, 3);
            ulong b17 = BitOperations.RotateLeft(a11 ^ d1, 10);
            ulong b02 = BitOperations.RotateLeft(a12 ^ d2, 43);
            ulong b12 = BitOperations.RotateLeft(a13 ^ d3, 25);
            ulong b22 = BitOperations.RotateLeft(a14 ^ d4, 39);
            ulong b23 = BitOperations.RotateLeft(a15 ^ d0, 41);
            ulong b08 = BitOperations.RotateLeft(a16 ^ d1, 45);
            ulong b18 = BitOperations.RotateLeft(a17 ^ d2, 15);
            ulong b03 = BitOperations.RotateLeft(a18 ^ d3, 21);
            ulong b13 = BitOperations.RotateLeft(a19 ^ d4, 8);
            ulong b14 = BitOperations.RotateLeft(a20 ^ d0, 18);
            ulong b24 = BitOperations.RotateLeft(a21 ^ d1, 2);
            ulong b09 = BitOperations.RotateLeft(a22 ^ d2, 61);
            ulong b19 = BitOperations.RotateLeft(a23 ^ d3, 56);
            ulong b04 = BitOperations.RotateLeft(a24 ^ d4, 14);

            // chi
            a00 = b00 ^ (~b01 & b02); a01 = b01 ^ (~b02 & b03); a02 = b02 ^ (~b03 & b04); a03 = b03 ^ (~b04 & b00); a04 = b04 ^ (~b00 & b01);
            a05 = b05 ^ (~b06 & b07); a06 = b06 ^ (~b07 & b08); a07 = b07 ^ (~b08 & b09); a08 = b08 ^ (~b09 & b05); a09 = b09 ^ (~b05 & b06);
            a10 = b10 ^ (~b11 & b12); a11 = b11 ^ (~b12 & b13); a12 = b12 ^ (~b13 & b14); a13 = b13 ^ (~b14 & b10); a14 = b14 ^ (~b10 & b11);
            a15 = b15 ^ (~b16 & b17); a16 = b16 ^ (~b17 & b18); a17 = b17 ^ (~b18 & b19); a18 = b18 ^ (~b19 & b15); a19 = b19 ^ (~b15 & b16);
            a20 = b20 ^ (~b21 & b22); a21 = b21 ^ (~b22 & b23); a22 = b22 ^ (~b23 & b24); a23 = b23 ^ (~b24 & b20); a24 = b24 ^ (~b20 & b21);

            // iota
            a00 ^= RoundConstants[round];
        }

        st = a00; Unsafe.Add(ref st, 1) = a01; Unsafe.Add(ref st, 2) = a02; Unsafe.Add(ref st, 3) = a03; Unsafe.Add(ref st, 4) = a04;
        Unsafe.Add(ref st, 5) = a05; Unsafe.Add(ref st, 6) = a06; Unsafe.Add(ref st, 7) = a07; Unsafe.Add(ref st, 8) = a08; Unsafe.Add(ref st, 9) = a09;
        Unsafe.Add(ref st, 10) = a10; Unsafe.Add(ref st, 11) = a11; Unsafe.Add(ref st, 12) = a12; Unsafe.Add(ref st, 13) = a13; Unsafe.Add(ref st, 14) = a14;
        Unsafe.Add(ref st, 15) = a15; Unsafe.Add(ref st, 16) = a16; Unsafe.Add(ref st, 17) = a17; Unsafe.Add(ref st, 18) = a18; Unsafe.Add(ref st, 19) = a19;
        Unsafe.Add(ref st, 20) = a20; Unsafe.Add(ref st, 21) = a21; Unsafe.Add(ref st, 22) = a22; Unsafe.Add(ref st, 23) = a23; Unsafe.Add(ref st, 24) = a24;
    }
}
