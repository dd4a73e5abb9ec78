using DePin.Abstractions.Nodes;
using DePin.Grains.Nodes;
using DePin.Silo.Api.Auth;
using DePin.Silo.Api.Contracts;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary><c>/nodes</c> (client keys): registered compute nodes.</summary>
public static class NodesEndpoints
{
    /// <summary>Maps the nodes group.</summary>
    public static RouteGroupBuilder MapNodesEndpoints(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/nodes").WithTags("Nodes").RequireAuthorization(DePinAuthentication.ClientPolicy);
        nodes.MapGet("/", ListNodesAsync).WithName("listNodes").WithSummary("Registered nodes, ordered by id")
            .Produces<IReadOnlyList<NodeView>>().ProducesProblem(400);
        nodes.MapGet("/{**nodeId}", GetNodeAsync).WithName("getNode").WithSummary("One node: operator, capabilities, liveness, standing")
            .Produces<NodeView>().ProducesProblem(404);

        // Operator actions on nodes (node ids contain '/', so the id travels in the body).
        var actions = app.MapGroup("/node-exclusions").WithTags("Nodes").RequireAuthorization(DePinAuthentication.AdminPolicy);
        actions.MapPost("/", ExcludeAsync).WithName("excludeNode")
            .WithSummary("Exclude a node: it can no longer log in, lease, report or renew; its leases return to the queue when they expire")
            .Produces<NodeView>().ProducesProblem(400).ProducesProblem(404);
        actions.MapPost("/readmit", ReadmitAsync).WithName("readmitNode").WithSummary("Admit an excluded node again")
            .Produces<NodeView>().ProducesProblem(400).ProducesProblem(404);
        return nodes;
    }

    private static async Task<IResult> ExcludeAsync(NodeExclusionRequest? request, IGrainFactory grains)
    {
        if (request?.NodeId is not { Length: > 0 and <= 200 } nodeId) return Problem(400, "Invalid exclusion", "'nodeId' is required (at most 200 characters).");
        if (request.Reason is not { Length: > 0 and <= 500 } reason || reason.Any(char.IsControl))
            return Problem(400, "Invalid exclusion", "'reason' is required: 1-500 characters without control characters, shown to the node.");
        return await grains.GetGrain<INodeGrain>(nodeId).SetExcludedAsync(reason) is { } node
            ? TypedResults.Ok(node)
            : Problem(404, "Unknown node", $"No node '{nodeId}' is registered.");
    }

    private static async Task<IResult> ReadmitAsync(NodeExclusionRequest? request, IGrainFactory grains)
    {
        if (request?.NodeId is not { Length: > 0 and <= 200 } nodeId) return Problem(400, "Invalid readmission", "'nodeId' is required (at most 200 characters).");
        return await grains.GetGrain<INodeGrain>(nodeId).SetExcludedAsync(null) is { } node
            ? TypedResults.Ok(node)
            : Problem(404, "Unknown node", $"No node '{nodeId}' is registered.");
    }

    private static async Task<IResult> ListNodesAsync(IGrainFactory grains, int? offset, int? limit)
    {
        if (InvalidPaging(offset, limit, 10_000) is { } problem) return problem;
        return TypedResults.Ok(await NodeDirectory.ListAsync(grains, offset ?? 0, limit ?? 1000));
    }

    private static async Task<IResult> GetNodeAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).GetAsync() is { } node
            ? TypedResults.Ok(node)
            : Problem(404, "Unknown node", $"No node '{nodeId}' is registered.");
}
