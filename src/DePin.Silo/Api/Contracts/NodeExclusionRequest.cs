namespace DePin.Silo.Api.Contracts;

/// <summary>Body of <c>POST /node-exclusions</c> and <c>POST /node-exclusions/readmit</c>.</summary>
public sealed record NodeExclusionRequest
{
    /// <summary>The node, e.g. <c>0xabc…/cuda0</c>.</summary>
    public string? NodeId { get; init; }

    /// <summary>Why (required to exclude; shown to the node when it is refused).</summary>
    public string? Reason { get; init; }
}
