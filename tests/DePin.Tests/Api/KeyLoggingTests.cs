using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DePin.Tests.Api;

/// <summary>API keys never reach a log, at any level, whatever happens to them.</summary>
public sealed class KeyLoggingTests
{
    /// <summary>Keeps every formatted message and exception text.</summary>
    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);
        public void Dispose() { }

        private sealed class Capturing(CapturingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }

    [Fact]
    public async Task Keys_are_not_logged_when_created_used_refused_or_revoked()
    {
        var logs = new CapturingProvider();
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Orleans"] = "Information",
        }, b => b.Services.AddSingleton<ILoggerProvider>(logs));

        var created = await (await silo.AdminHttp.PostAsJsonAsync("/keys", new { role = "client", name = "logged?" })).ReadAsync<CreatedApiKey>();
        using (var http = silo.CreateHttp(created.Key))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/nodes")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/keys")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await silo.AdminHttp.PostAsync($"/keys/{created.KeyId}/revoke", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/nodes")).StatusCode);
        }
        using (var bad = silo.CreateHttp(created.Key[..^4] + "AAAA"))
            Assert.Equal(HttpStatusCode.Unauthorized, (await bad.GetAsync("/jobs")).StatusCode);

        Assert.NotEmpty(logs.Lines);
        Assert.Contains(logs.Lines, l => l.Contains(silo.KeysDirectory));
        foreach (var key in new[] { created.Key, silo.AdminKey, silo.ClientKey })
        {
            var secret = key["dpk_0123456789abcdef_".Length..];
            Assert.DoesNotContain(logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }
}
