namespace DePin.Silo.Api.Contracts;

/// <summary>A catalog entry (GET /kernels).</summary>
public sealed record KernelInfo(string Name, string Description, string Comparison);
