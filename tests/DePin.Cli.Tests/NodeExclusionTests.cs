using System.Net;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli.Tests;

/// <summary>
/// <c>depin admin nodes exclude|readmit</c> and <see cref="DePinClient.ExcludeNodeAsync"/> / <see cref="DePinClient.ReadmitNodeAsync"/>
/// against a real silo; a class (and silo) of its own because excluding the only worker's node stops its leasing.
/// </summary>
public sealed class NodeExclusionTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Cli_excludes_and_readmits_a_node_and_refuses_an_unknown_one()
    {
        var nodeId = fixture.Node.NodeId;
        var excluded = await fixture.RunAsync("admin", "nodes", "exclude", nodeId, "--reason", "wrong results");
        Assert.True(excluded.ExitCode == 0, excluded.Err);
        Assert.StartsWith($"excluded {nodeId} (operator {fixture.Node.OperatorAddress}): wrong results", excluded.Out);

        var nodes = await fixture.RunAsync("nodes", "--json");
        using (var doc = JsonDocument.Parse(nodes.Out))
            Assert.Equal("wrong results", doc.RootElement.EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == nodeId)
                .GetProperty("excludedBecause").GetString());

        var readmitted = await fixture.RunAsync("admin", "nodes", "readmit", nodeId);
        Assert.True(readmitted.ExitCode == 0, readmitted.Err);
        Assert.Equal($"readmitted {nodeId}", readmitted.Out.Trim());

        var unknown = await fixture.RunAsync("admin", "nodes", "exclude", "no-such/node", "--reason", "x");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("error: Unknown node: No node 'no-such/node' is registered.", unknown.Err.Trim());

        var forbidden = await fixture.RunAsync("admin", "nodes", "readmit", nodeId, "--api-key", fixture.Silo.ClientKey);
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("(403)", forbidden.Err);
    }

    [Fact]
    public async Task Client_excludes_and_readmits_a_node_and_refuses_bad_requests()
    {
        using var admin = fixture.Client(admin: true);
        var nodeId = fixture.Node.NodeId;
        Assert.Equal("audit", (await admin.ExcludeNodeAsync(nodeId, "audit")).ExcludedBecause);
        Assert.Equal("audit", (await admin.GetNodeAsync(nodeId)).ExcludedBecause);
        Assert.Null((await admin.ReadmitNodeAsync(nodeId)).ExcludedBecause);

        var bad = await Assert.ThrowsAsync<DePinApiException>(() => admin.ExcludeNodeAsync(nodeId, "line\nbreak"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("'reason'", bad.Detail);
        var unknown = await Assert.ThrowsAsync<DePinApiException>(() => admin.ReadmitNodeAsync("no-such/node"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var client = fixture.Client();
        var forbidden = await Assert.ThrowsAsync<DePinApiException>(() => client.ExcludeNodeAsync(nodeId, "x"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}
