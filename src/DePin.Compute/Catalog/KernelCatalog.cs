using DePin.Compute.Kernels;

namespace DePin.Compute.Catalog;

/// <summary>The vetted kernels providers run. Immutable and thread-safe.</summary>
public sealed class KernelCatalog
{
    private readonly Dictionary<string, IKernel> _byName;

    /// <summary>Creates a catalog of the given kernels (names must be unique, compared ordinally).</summary>
    public KernelCatalog(IEnumerable<IKernel> kernels)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        _byName = new Dictionary<string, IKernel>(StringComparer.Ordinal);
        foreach (var k in kernels)
        {
            if (!_byName.TryAdd(k.Name, k))
                throw new ArgumentException($"duplicate kernel name '{k.Name}'", nameof(kernels));
        }
        All = _byName.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The built-in catalog.</summary>
    public static KernelCatalog Default { get; } = new([new SaxpyKernel(), new MonteCarloPiKernel(), new MandelbrotKernel(), new SgemmKernel(), new ReduceKernel(), new OptionPriceKernel(), new BlurKernel()]);

    /// <summary>All kernels, ordered by name.</summary>
    public IReadOnlyCollection<IKernel> All { get; }

    /// <summary>Looks a kernel up by its exact name.</summary>
    public bool TryGet(string name, out IKernel kernel)
    {
        if (name is not null && _byName.TryGetValue(name, out var k))
        {
            kernel = k;
            return true;
        }
        kernel = null!;
        return false;
    }

    /// <summary>Looks a kernel up by name; throws <see cref="KernelArgumentException"/> naming the known kernels.</summary>
    public IKernel Get(string name)
    {
        if (TryGet(name, out var kernel))
            return kernel;
        string shown = name is null ? "(null)" : name.Length <= 40 ? name : name[..40] + "...";
        throw new KernelArgumentException($"unknown kernel '{shown}'; known: {string.Join(", ", All.Select(k => k.Name))}");
    }
}
