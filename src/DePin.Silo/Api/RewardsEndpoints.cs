using DePin.Abstractions;
using DePin.Abstractions.Rewards;
using DePin.Grains.Settlement;
using DePin.Silo.Api.Auth;
using DePin.Silo.Api.Contracts;
using Microsoft.Extensions.Options;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary>
/// Operators' accounts (earnings, statement, claim proof) and the ledger's epochs are public, so anyone can verify the
/// ledger (rate limited per address); closing an epoch needs an admin key, where epochs settle a client key. RPC URLs
/// are shown as scheme, host and port only (<see cref="RedactedUrl"/>).
/// </summary>
public static class RewardsEndpoints
{
    /// <summary>Maps the accounts, epochs and settlement groups.</summary>
    public static IEndpointRouteBuilder MapRewardsEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/accounts").WithTags("Rewards").AllowAnonymous().RequireRateLimiting(ApiRateLimiting.PublicPolicy);
        accounts.MapGet("/{address}", GetAccountAsync).WithName("getAccount").WithSummary("An operator's earnings")
            .Produces<RewardAccountView>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(429);
        accounts.MapGet("/{address}/proof", GetProofAsync).WithName("getAccountProof").WithSummary("Latest on-chain cumulative amount and Merkle proof, for claiming")
            .Produces<AccountProof>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(429);
        accounts.MapGet("/{address}/statement", GetStatementAsync).WithName("getAccountStatement")
            .WithSummary("Earnings statement: units, credits, and every epoch with its transaction")
            .Produces<EarningsStatement>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(429);

        var epochs = app.MapGroup("/epochs").WithTags("Rewards").AllowAnonymous().RequireRateLimiting(ApiRateLimiting.PublicPolicy);
        epochs.MapGet("/", ListEpochsAsync)
            .WithName("listEpochs").WithSummary("Closed epochs and their settlement batches, newest first")
            .Produces<IReadOnlyList<EpochSettlement>>().ProducesProblem(400).ProducesProblem(429);
        epochs.MapGet("/{epoch:long}", GetEpochAsync).WithName("getEpoch").WithSummary("One closed epoch and its settlement")
            .Produces<EpochSettlement>().ProducesProblem(404).ProducesProblem(429);

        var epochActions = app.MapGroup("/epochs").WithTags("Rewards").RequireAuthorization(DePinAuthentication.AdminPolicy);
        epochActions.MapPost("/close", CloseEpochAsync).WithName("closeEpoch").WithSummary("Close the open epoch now (operator action)")
            .Produces<EpochSettlement>().Produces(StatusCodes.Status204NoContent);
        epochActions.MapGet("/quarantine", GetQuarantineAsync).WithName("getQuarantine")
            .WithSummary("Accounts kept out of epochs at their last good amount because their entry was bad (operator view)")
            .Produces<IReadOnlyList<QuarantinedAccount>>();

        var settlement = app.MapGroup("/settlement").WithTags("Rewards").RequireAuthorization(DePinAuthentication.ClientPolicy);
        settlement.MapGet("/", GetSettlement).WithName("getSettlement").WithSummary("Where epochs are settled").Produces<SettlementInfo>();
        return app;
    }

    private static async Task<IResult> GetAccountAsync(string address, IGrainFactory grains)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        var account = await grains.GetGrain<IRewardAccountGrain>(normalized).GetAsync();
        return account.UnitsCredited == 0
            ? Problem(404, "Unknown account", $"No earnings have been credited to {normalized}.")
            : TypedResults.Ok(account);
    }

    private static async Task<IResult> GetProofAsync(string address, IGrainFactory grains, SettlementGateway gateway)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        if (!gateway.IsEnabled)
            return Problem(409, "Settlement off", "Epochs are not settled on chain here (Settlement:Mode is Off), so there is nothing to claim.");
        return await grains.GetGrain<ILedgerGrain>(0).GetProofAsync(normalized) is { } proof
            ? TypedResults.Ok(proof with { RpcUrl = RedactedUrl.Of(proof.RpcUrl) })
            : Problem(404, "Nothing to claim", $"{normalized} is in no epoch settled on chain yet.");
    }

    private static async Task<IResult> GetStatementAsync(string address, IGrainFactory grains)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        var account = await grains.GetGrain<IRewardAccountGrain>(normalized).GetAsync();
        if (account.UnitsCredited == 0) return Problem(404, "Unknown account", $"No earnings have been credited to {normalized}.");
        return TypedResults.Ok(new EarningsStatement(account, await grains.GetGrain<ILedgerGrain>(0).GetStatementAsync(normalized)));
    }

    private static async Task<IResult> ListEpochsAsync(IGrainFactory grains, int? offset, int? limit)
    {
        // Checked like every other list, not clamped quietly by the ledger.
        if (InvalidPaging(offset, limit, 1000) is { } problem) return problem;
        return TypedResults.Ok(await grains.GetGrain<ILedgerGrain>(0).ListEpochsAsync(offset ?? 0, limit ?? 50));
    }

    private static async Task<IResult> GetEpochAsync(long epoch, IGrainFactory grains) =>
        await grains.GetGrain<ILedgerGrain>(0).GetEpochAsync(epoch) is { } e
            ? TypedResults.Ok(e)
            : Problem(404, "Unknown epoch", $"Epoch {epoch} has not been closed.");

    private static async Task<IResult> CloseEpochAsync(IGrainFactory grains) =>
        await grains.GetGrain<ILedgerGrain>(0).CloseEpochAsync() is { } e
            ? TypedResults.Ok(e)
            : TypedResults.NoContent();

    private static async Task<IResult> GetQuarantineAsync(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ILedgerGrain>(0).GetQuarantineAsync());

    private static SettlementInfo GetSettlement(SettlementGateway gateway, IOptions<SettlementHostOptions> options) => new(
        options.Value.Mode.ToString(), gateway.IsEnabled, RedactedUrl.Of(gateway.Options?.RpcUrl), gateway.Options?.ChainId,
        gateway.Options?.DistributorAddress, gateway.Options?.TokenAddress, gateway.IsEnabled ? gateway.Settler.SettlerAddress : null,
        gateway.WeiPerMicroCredit.ToString());
}
