using System.Text.Json;
using DePin.Compute.Devices;

namespace DePin.Compute.Catalog;

/// <summary>
/// Shared plumbing for catalog kernels: guarantees that <see cref="Plan"/> lets no exception other than
/// <see cref="KernelArgumentException"/> escape, and dispatches <see cref="Execute"/> by device kind.
/// </summary>
public abstract class KernelBase : IKernel
{
    /// <summary>Prefix of the message used when an unexpected exception had to be converted (indicates a validation gap).</summary>
    public const string UnexpectedPrefix = "invalid parameters (internal:";

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract string Description { get; }

    /// <inheritdoc />
    public abstract OutputComparison Comparison { get; }

    /// <inheritdoc />
    public KernelPlan Plan(JsonElement parameters, KernelLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            return PlanCore(parameters, limits);
        }
        catch (KernelArgumentException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Belt and braces: Plan must only ever fail with a client-facing KernelArgumentException.
            throw new KernelArgumentException($"{Name}: {UnexpectedPrefix} {e.GetType().Name})");
        }
    }

    /// <summary>Validation and splitting; throw <see cref="KernelArgumentException"/> for bad input.</summary>
    protected abstract KernelPlan PlanCore(JsonElement parameters, KernelLimits limits);

    /// <inheritdoc />
    public byte[] Execute(ComputeDevice device, KernelUnit unit)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(unit);
        // Input plus an output of similar size must fit in device memory; say so instead of faulting the device.
        if (2L * unit.Input.Length > device.MemoryBytes)
            throw new KernelArgumentException(
                $"unit {unit.UnitIndex} needs about {2L * unit.Input.Length} bytes of device memory; {device.Id} ({device.Name}) has {device.MemoryBytes}");
        return device.Kind == DeviceKind.VectorCpu
            ? ExecuteVector(unit)
            : device.Run(_ => ExecuteIlgpu(device, unit));
    }

    /// <summary>The ILGPU backend (CUDA, OpenCL, ILGPU CPU).</summary>
    protected abstract byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit);

    /// <summary>The vectorised .NET backend.</summary>
    protected abstract byte[] ExecuteVector(KernelUnit unit);

    /// <inheritdoc />
    public abstract KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs);

    /// <inheritdoc />
    public abstract bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b);

    /// <inheritdoc />
    public abstract long ExpectedOutputBytes(KernelUnit unit);

    // Parsed canonical parameters, keyed by the string instance: a queue shard checks every result of a job against
    // the same string, so the parameters are parsed once per job there instead of once per unit (that parse cost the
    // pipeline ~20 % of its units/s). Entries go with their string.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, object> _parsed = new();

    /// <summary>
    /// <paramref name="parse"/> of <paramref name="canonicalParameters"/>, computed once per parameters instance.
    /// For hot checks that see the same job's parameters many times (the output-shape check).
    /// </summary>
    protected T ParsedOnce<T>(string canonicalParameters, Func<string, T> parse) where T : notnull
    {
        if (_parsed.TryGetValue(canonicalParameters, out var cached)) return (T)cached;
        var value = parse(canonicalParameters);
        _parsed.AddOrUpdate(canonicalParameters, value);
        return value;
    }

    /// <inheritdoc />
    /// <remarks>The exact length; a kernel whose output has more structure (a header) checks that too.</remarks>
    public virtual bool IsWellFormedOutput(KernelUnit unit, ReadOnlySpan<byte> output)
    {
        ArgumentNullException.ThrowIfNull(unit);
        try
        {
            return output.Length == ExpectedOutputBytes(unit);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false; // parameters or index that do not describe a unit of this kernel: nothing is well formed
        }
    }

    /// <summary>Number of units of <paramref name="total"/> items in chunks of <paramref name="perUnit"/>; checks MaxUnits.</summary>
    protected int CountUnits(long total, long perUnit, KernelLimits limits, string what)
    {
        long units = (total + perUnit - 1) / perUnit;
        if (units > limits.MaxUnits)
            throw new KernelArgumentException($"{Name}: {total} {what} at {perUnit} per unit make {units} units; at most {limits.MaxUnits} are allowed (raise the per-unit size)");
        return (int)units;
    }
}
