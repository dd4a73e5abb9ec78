using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>
/// Start-up validation of the Redis and TLS configuration: one line naming the setting, non-zero exit, and never a
/// password in it.
/// </summary>
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

    [Theory]
    [InlineData("secret")] // wrong password from Silo:RedisPassword (a Secret)
    [InlineData("string")] // wrong password inside the Silo:Redis configuration string
    [InlineData("none")]   // no password for a Redis that requires one
    public async Task Wrong_redis_password_exits_non_zero_with_a_clear_message_that_does_not_show_it(string given)
    {
        await using var redis = await RedisServer.StartAsync();
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string> { ["Silo:RedisConnectTimeout"] = "00:00:03" };
        if (given == "secret") settings["Silo:RedisPassword"] = wrong;
        var configuration = given == "string" ? $"{redis.Endpoint},password={wrong}" : redis.Endpoint;
        await using var silo = await SiloProcess.StartAsync("badpw", "api", configuration, "ct-badpw", settings, waitHealthy: false);

        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the silo did not exit");
        Assert.NotEqual(0, silo.ExitCode);
        var line = Assert.Single(silo.Log.Split('\n'), l => l.Contains("Silo:Redis"));
        Assert.StartsWith("depin-silo: Silo:Redis", line);
        Assert.Contains("refused the credentials", line);
        Assert.DoesNotContain(wrong, silo.Log);
        Assert.DoesNotContain(redis.Password, silo.Log);
    }

    [Fact]
    public async Task Redis_cluster_without_a_tls_certificate_exits_non_zero_naming_the_setting_and_the_opt_out()
    {
        await using var silo = await SiloProcess.StartAsync("notls", "api", "127.0.0.1:" + RedisServer.FreePort(), "ct-notls",
            new Dictionary<string, string> { ["Silo:Tls:CertificatePath"] = "" }, waitHealthy: false);
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the silo did not exit");
        Assert.NotEqual(0, silo.ExitCode);
        var line = Assert.Single(silo.Log.Split('\n'), l => l.Contains("Silo:Tls"));
        Assert.StartsWith("depin-silo: Silo:Tls:CertificatePath is not set", line);
        Assert.Contains("Silo:Tls:Mode=Off", line);
    }

    [Fact]
    public async Task Wrong_certificate_password_exits_non_zero_without_showing_it()
    {
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        await using var silo = await SiloProcess.StartAsync("badcert", "api", "127.0.0.1:" + RedisServer.FreePort(), "ct-badcert",
            new Dictionary<string, string> { ["Silo:Tls:CertificatePassword"] = wrong }, waitHealthy: false);
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the silo did not exit");
        Assert.NotEqual(0, silo.ExitCode);
        var line = Assert.Single(silo.Log.Split('\n'), l => l.Contains("Silo:Tls"));
        Assert.StartsWith("depin-silo: Silo:Tls:CertificatePath", line);
        Assert.DoesNotContain(wrong, silo.Log);
    }

    [Fact]
    public async Task Tls_mode_off_is_an_explicit_opt_out_that_runs_plain_and_warns()
    {
        await using var cluster = await LocalCluster.StartRedisOnlyAsync(new NullOutput());
        var silo = await cluster.AddSiloAsync("plain", "api", new Dictionary<string, string> { ["Silo:Tls:Mode"] = "Off" });
        Assert.Contains("Silo:Tls:Mode=Off", silo.Log);
        var failure = await GatewayClient.TryCallAsync(silo, cluster.ClusterId, GatewayTls.None, null, TimeSpan.FromSeconds(30));
        Assert.True(failure is null, $"a plain client failed against Silo:Tls:Mode=Off: {failure}");
    }

    private sealed class NullOutput : ITestOutputHelper
    {
        public void WriteLine(string message) { }
        public void WriteLine(string format, params object[] args) { }
    }
}
