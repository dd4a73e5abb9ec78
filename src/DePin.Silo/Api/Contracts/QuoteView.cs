namespace DePin.Silo.Api.Contracts;

/// <summary>A job's price and expected run time (POST /jobs/quote).</summary>
public sealed record QuoteView(string Kernel, int UnitCount, long PricePerUnitMicroCredits, long PriceMicroCredits,
    double EstimatedGflop, IReadOnlyList<NodeEstimate> Nodes);

/// <summary>How long one online node would take for the whole job at its measured SGEMM rate (a rough bound).</summary>
public sealed record NodeEstimate(string NodeId, string DeviceKind, double SgemmGflops, bool Eligible, double? ExpectedSeconds);
