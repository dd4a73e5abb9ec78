using System.Text.Json;
using DePin.Compute.Devices;

namespace DePin.Compute.Catalog;

/// <summary>
/// A vetted kernel of the catalog. The catalog is the contract with providers: no client code runs on their hardware.
/// Implementations are stateless and thread-safe; device-specific state (compiled kernels, buffers) lives on the <see cref="ComputeDevice"/>.
/// </summary>
public interface IKernel
{
    /// <summary>Stable catalog name used by the job API, e.g. <c>saxpy</c>.</summary>
    string Name { get; }

    /// <summary>One line for humans (API listing, CLI help).</summary>
    string Description { get; }

    /// <summary>How two outputs of the same unit are compared when verifying replicas.</summary>
    OutputComparison Comparison { get; }

    /// <summary>
    /// Validates the client's parameters and splits the job into units.
    /// Throws <see cref="KernelArgumentException"/> with a message fit for an HTTP 400 on any bad input.
    /// </summary>
    KernelPlan Plan(JsonElement parameters, KernelLimits limits);

    /// <summary>Runs one unit on a device; called on a worker thread, never inside a grain turn.</summary>
    byte[] Execute(ComputeDevice device, KernelUnit unit);

    /// <summary>Assembles all unit outputs, given in unit order, into the job's result.</summary>
    KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs);

    /// <summary>True when two outputs of one unit agree under this kernel's comparison rule.</summary>
    bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b);

    /// <summary>The exact byte length of <paramref name="unit"/>'s output, known from its parameters and index alone.</summary>
    /// <exception cref="ArgumentException">The unit does not belong to its parameters (e.g. index out of range).</exception>
    long ExpectedOutputBytes(KernelUnit unit);

    /// <summary>
    /// True when <paramref name="output"/> has the shape this kernel gives <paramref name="unit"/>'s output. Checked on
    /// every untrusted result before it is compared with other replicas; never throws.
    /// </summary>
    bool IsWellFormedOutput(KernelUnit unit, ReadOnlySpan<byte> output);
}

/// <summary>How replica outputs of a unit are compared.</summary>
public enum OutputComparison
{
    /// <summary>Exact bytes (SHA-256 digests must match).</summary>
    Bitwise,
    /// <summary>Per-kernel tolerance on canonicalised floating-point output.</summary>
    Tolerance,
}

/// <summary>A validated job split into units.</summary>
/// <param name="CanonicalParameters">Normalised parameters (JSON) that every unit is executed with; excludes bulk input.</param>
/// <param name="UnitInputs">One input blob per unit (may be empty arrays when units derive their work from the parameters).</param>
/// <param name="Cost">Estimated cost of one unit, used for pricing.</param>
public sealed record KernelPlan(string CanonicalParameters, IReadOnlyList<byte[]> UnitInputs, KernelCost Cost)
{
    /// <summary>Number of units.</summary>
    public int UnitCount => UnitInputs.Count;
}

/// <summary>Estimated cost of one unit.</summary>
public sealed record KernelCost(double Flops, double Bytes)
{
    /// <summary>Price of one unit in micro-credits: a floor of 1 plus one per 10^6 FLOP or 10^6 bytes moved.</summary>
    public long PriceMicroCredits => 1 + (long)Math.Ceiling((Flops + Bytes) / 1_000_000d);
}

/// <summary>One unit as handed to <see cref="IKernel.Execute"/>.</summary>
public sealed record KernelUnit(string CanonicalParameters, int UnitIndex, int UnitCount, ReadOnlyMemory<byte> Input);

/// <summary>A job result: bytes with a content type plus a one-line human summary.</summary>
public sealed record KernelResult(string ContentType, byte[] Data, string Summary);

/// <summary>Size limits the job API enforces through <see cref="IKernel.Plan"/>.</summary>
public sealed record KernelLimits(int MaxUnits = 65_536, long MaxInputBytes = 16L << 20, long MaxOutputBytes = 64L << 20)
{
    /// <summary>The defaults.</summary>
    public static KernelLimits Default { get; } = new();
}

/// <summary>Bad kernel parameters; the message is shown to the client.</summary>
public sealed class KernelArgumentException(string message) : ArgumentException(message);
