namespace DePin.Silo.Api.Contracts;

/// <summary>Where epochs are settled (GET /settlement).</summary>
public sealed record SettlementInfo(string Mode, bool Enabled, string? RpcUrl, long? ChainId, string? DistributorAddress,
    string? TokenAddress, string? SettlerAddress, string WeiPerMicroCredit);
