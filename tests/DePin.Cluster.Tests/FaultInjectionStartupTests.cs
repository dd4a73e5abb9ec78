using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary><c>Silo:FaultInjection</c> never runs by accident: outside the Testing environment a silo refuses to start with it.</summary>
public sealed class FaultInjectionStartupTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task Fault_injection_outside_the_Testing_environment_exits_non_zero_naming_the_setting(string environment)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var silo = await SiloProcess.StartAsync("faulty", "api", redis.Endpoint, "ct-faulty", new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = environment,
            ["Silo:RedisPassword"] = redis.Password,
            ["Silo:FaultInjection:WriteFailureRate"] = "0.05",
        }, waitHealthy: false);

        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the silo did not exit");
        Assert.NotEqual(0, silo.ExitCode);
        var line = Assert.Single(silo.Log.Split('\n'), l => l.Contains("Silo:FaultInjection"));
        Assert.StartsWith("depin-silo: Silo:FaultInjection is on", line);
        Assert.Contains($"the host environment is '{environment}'", line);
    }

    [Fact]
    public async Task Fault_injection_in_the_Testing_environment_starts_and_warns_loudly()
    {
        await using var cluster = await LocalCluster.StartRedisOnlyAsync(new NullOutput());
        var silo = await cluster.AddSiloAsync("faulty", "api", new Dictionary<string, string> { ["Silo:FaultInjection:WriteFailureRate"] = "0.05" });
        await WaitForAsync(() => silo.Log.Contains("FAULT INJECTION ON", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(100);
        }
    }

    private sealed class NullOutput : ITestOutputHelper
    {
        public void WriteLine(string message) { }

        public void WriteLine(string format, params object[] args) { }
    }
}
