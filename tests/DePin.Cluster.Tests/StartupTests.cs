using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>Start-up validation of the Redis configuration: one line naming Silo:Redis, non-zero exit.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("127.0.0.1:{port}")]                    // nobody listens
    [InlineData("127.0.0.1:{port},connectTimeout=abc")] // malformed
    public async Task Unusable_redis_exits_non_zero_with_a_message_naming_Silo_Redis(string redis)
    {
        redis = redis.Replace("{port}", RedisServer.FreePort().ToString());
        await using var silo = await SiloProcess.StartAsync("bad", "api,gpu", redis, "ct-bad",
            new Dictionary<string, string> { ["Silo:RedisConnectTimeout"] = "00:00:02" }, waitHealthy: false);
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the silo did not exit");
        Assert.NotEqual(0, silo.ExitCode);
        var line = Assert.Single(silo.Log.Split('\n'), l => l.Contains("Silo:Redis"));
        Assert.StartsWith("depin-silo: Silo:Redis", line);
    }
}
