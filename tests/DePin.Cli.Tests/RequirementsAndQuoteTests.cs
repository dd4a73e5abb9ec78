using System.Net;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli.Tests;

/// <summary>Node requirements on <c>submit</c>, <c>depin quote</c> (POST /jobs/quote), and their display in <c>status</c>.</summary>
public class RequirementsAndQuoteTests
{
    private static Task<Outcome> Run(StubHandler? handler, params string[] args) => CliRun.RunAsync(handler, null, args);

    private const string QuoteJson = """
        {"kernel":"montecarlo-pi","unitCount":8,"pricePerUnitMicroCredits":1000,"priceMicroCredits":8000,"estimatedGflop":12.5,
         "nodes":[{"nodeId":"cpu-1","deviceKind":"VectorCpu","sgemmGflops":40.25,"eligible":false,"expectedSeconds":0.62},
                  {"nodeId":"gpu-1","deviceKind":"Cuda","sgemmGflops":12000,"eligible":true,"expectedSeconds":0.0021},
                  {"nodeId":"new-1","deviceKind":"OpenCL","sgemmGflops":0,"eligible":true,"expectedSeconds":null},
                  {"nodeId":"h100","deviceKind":"Cuda","sgemmGflops":50000,"eligible":true,"expectedSeconds":0.0001}]}
        """;

    [Fact]
    public async Task Submit_SendsRequirements()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("job9", "Submitted", 0, 8), HttpStatusCode.Accepted));
        var o = await Run(stub, "submit", "saxpy", "--params", """{"a":1}""", "--device-kind", "cuda", "--device-kind", "OpenCL,Cuda",
            "--min-memory", "8GiB", "--min-gflops", "100.5");

        Assert.True(o.ExitCode == 0, o.Err);
        var (method, path, body) = Assert.Single(stub.Requests);
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("/jobs", path);
        using var doc = JsonDocument.Parse(body!);
        var req = doc.RootElement.GetProperty("requirements");
        Assert.Equal(["Cuda", "OpenCL"], req.GetProperty("deviceKinds").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(8L << 30, req.GetProperty("minMemoryBytes").GetInt64());
        Assert.Equal(100.5, req.GetProperty("minGflops").GetDouble());
    }

    [Fact]
    public async Task Submit_PlainBytesAndSingleConstraint_OmitsTheOthers()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("job9", "Submitted", 0, 8), HttpStatusCode.Accepted));
        var o = await Run(stub, "submit", "saxpy", "--params", """{"a":1}""", "--min-memory", "1048576");

        Assert.Equal(0, o.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(stub.Requests).Body!);
        var req = doc.RootElement.GetProperty("requirements");
        Assert.Equal(1048576, req.GetProperty("minMemoryBytes").GetInt64());
        Assert.False(req.TryGetProperty("deviceKinds", out _));
        Assert.False(req.TryGetProperty("minGflops", out _));
    }

    [Fact]
    public async Task Submit_WithoutRequirements_SendsNone()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("job9", "Submitted", 0, 8), HttpStatusCode.Accepted));
        var o = await Run(stub, "submit", "saxpy", "--params", """{"a":1}""");

        Assert.Equal(0, o.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(stub.Requests).Body!);
        Assert.False(doc.RootElement.TryGetProperty("requirements", out _));
    }

    [Theory]
    [InlineData("--device-kind", "Tpu", "'Tpu' is not a device kind")]
    [InlineData("--min-memory", "lots", "'lots' is not a byte count")]
    [InlineData("--min-gflops", "-3", "'-3' is not a non-negative number")]
    public async Task BadRequirementOption_UsageErrorWithoutRequest(string option, string value, string message)
    {
        var stub = new StubHandler(_ => throw new InvalidOperationException("no request expected"));
        foreach (var command in new[] { "submit", "quote" })
        {
            var o = await Run(stub, command, "saxpy", "--params", "{}", option, value);
            Assert.NotEqual(0, o.ExitCode);
            Assert.Contains(message, o.Err);
        }
        Assert.Empty(stub.Requests);
    }

    [Fact]
    public async Task Quote_PrintsPriceWorkAndNodeTable()
    {
        var stub = new StubHandler(_ => StubHandler.Json(QuoteJson));
        var o = await Run(stub, "quote", "montecarlo-pi", "-p", """{"samples":1000,"units":8}""", "--device-kind", "Cuda", "--redundancy", "2");

        Assert.True(o.ExitCode == 0, o.Err);
        var (method, path, body) = Assert.Single(stub.Requests);
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("/jobs/quote", path);
        using (var doc = JsonDocument.Parse(body!))
        {
            Assert.Equal("montecarlo-pi", doc.RootElement.GetProperty("kernel").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("redundancy").GetInt32());
            Assert.Equal("Cuda", doc.RootElement.GetProperty("requirements").GetProperty("deviceKinds")[0].GetString());
        }

        Assert.Contains("price:", o.Out);
        Assert.Contains("0.008000 credits (0.001000 credits per unit)", o.Out);
        Assert.Contains("12.5 GFLOP", o.Out);
        Assert.Contains("device Cuda", o.Out);
        Assert.Contains("3 of 4 online", o.Out);
        var lines = o.Out.Split('\n', StringSplitOptions.TrimEntries).ToList();
        int header = lines.FindIndex(l => l.StartsWith("NODE", StringComparison.Ordinal));
        Assert.True(header >= 0, o.Out);
        Assert.Contains("ELIGIBLE", lines[header]);
        Assert.Contains("EXPECTED", lines[header]);
        // Eligible nodes first, fastest first; a node without a measured rate has no estimate.
        Assert.StartsWith("h100", lines[header + 2]);
        Assert.EndsWith("< 1 ms", lines[header + 2]);
        Assert.StartsWith("gpu-1", lines[header + 3]);
        Assert.Contains("yes", lines[header + 3]);
        Assert.EndsWith(" 2 ms", lines[header + 3]);
        Assert.StartsWith("new-1", lines[header + 4]);
        Assert.EndsWith("-", lines[header + 4]);
        Assert.StartsWith("cpu-1", lines[header + 5]);
        Assert.Contains("no", lines[header + 5]);
        Assert.EndsWith("620 ms", lines[header + 5]);
        Assert.Equal("", o.Err);
    }

    [Fact]
    public async Task Quote_Json_IsTheQuote()
    {
        var stub = new StubHandler(_ => StubHandler.Json(QuoteJson));
        var o = await Run(stub, "quote", "montecarlo-pi", "-p", "{}", "--json");

        Assert.Equal(0, o.ExitCode);
        using var doc = JsonDocument.Parse(o.Out);
        var root = doc.RootElement;
        Assert.Equal(8000, root.GetProperty("priceMicroCredits").GetInt64());
        Assert.Equal(12.5, root.GetProperty("estimatedGflop").GetDouble());
        var nodes = root.GetProperty("nodes");
        Assert.Equal(4, nodes.GetArrayLength());
        Assert.Equal("gpu-1", nodes[1].GetProperty("nodeId").GetString());
        Assert.True(nodes[1].GetProperty("eligible").GetBoolean());
        Assert.Equal(JsonValueKind.Null, nodes[2].GetProperty("expectedSeconds").ValueKind);
    }

    [Fact]
    public async Task Quote_NoEligibleNode_NotesItOnStderr()
    {
        var json = QuoteJson.Replace("\"eligible\":true", "\"eligible\":false");
        var o = await Run(new StubHandler(_ => StubHandler.Json(json)), "quote", "saxpy", "-p", "{}", "--min-gflops", "1e9");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("0 of 4 online", o.Out);
        Assert.Contains("no online node meets the requirements", o.Err);
    }

    [Fact]
    public async Task Quote_NoNodesOnline()
    {
        var json = """{"kernel":"saxpy","unitCount":1,"pricePerUnitMicroCredits":10,"priceMicroCredits":10,"estimatedGflop":0.002,"nodes":[]}""";
        var o = await Run(new StubHandler(_ => StubHandler.Json(json)), "quote", "saxpy", "-p", "{}");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("0.002 GFLOP", o.Out);
        Assert.Contains("no nodes online", o.Out);
    }

    [Fact]
    public async Task Quote_Problem400_Exit1WithDetail()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.BadRequest, "Job refused", "Unknown kernel 'nope'; see GET /kernels."));
        var o = await Run(stub, "quote", "nope", "-p", "{}");

        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: Job refused: Unknown kernel 'nope'; see GET /kernels.", o.Err.Trim());
        Assert.Equal("", o.Out);
        Assert.DoesNotContain("   at ", o.Err);
    }

    [Fact]
    public async Task Submit_RateLimited429_Exit1WithDetail()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.TooManyRequests, "Too many requests", "Slow down."));
        var o = await Run(stub, "submit", "saxpy", "-p", "{}");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("error: Too many requests: Slow down.", o.Err);
    }

    [Fact]
    public async Task Status_ShowsRequirementsAndEstimatedWork()
    {
        var json = StubHandler.JobJson("j1", "Running", 1, 4).TrimEnd('}')
            + ""","requirements":{"deviceKinds":["Cuda","OpenCL"],"minMemoryBytes":8589934592,"minGflops":100},"estimatedGflop":250}""";
        var o = await Run(new StubHandler(_ => StubHandler.Json(json)), "status", "j1");

        Assert.Equal(0, o.ExitCode);
        Assert.Contains("requirements:", o.Out);
        Assert.Contains("device Cuda or OpenCL, memory >= 8.0 GiB, SGEMM >= 100 GF/s", o.Out);
        Assert.Contains("250 GFLOP", o.Out);

        var plain = await Run(new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("j1", "Running", 1, 4))), "status", "j1");
        Assert.DoesNotContain("requirements", plain.Out);
        Assert.DoesNotContain("GFLOP", plain.Out);
    }

    [Fact]
    public async Task Client_QuoteJobAsync_DeserializesAndSendsRequirements()
    {
        var stub = new StubHandler(_ => StubHandler.Json(QuoteJson));
        using var http = new HttpClient(stub) { BaseAddress = new Uri("http://api.test/") };
        using var client = new DePinClient(http);
        var quote = await client.QuoteJobAsync("montecarlo-pi", new { samples = 1000, units = 8 },
            new SubmitJobOptions { Requirements = new JobRequirements { MinGflops = 5 } });

        Assert.Equal(8, quote.UnitCount);
        Assert.Equal(4, quote.Nodes.Count);
        Assert.Null(quote.Nodes[2].ExpectedSeconds);
        Assert.Equal(0.0021, quote.Nodes[1].ExpectedSeconds);
        using var body = JsonDocument.Parse(Assert.Single(stub.Requests).Body!);
        Assert.Equal(5, body.RootElement.GetProperty("requirements").GetProperty("minGflops").GetDouble());
        Assert.Equal(1000, body.RootElement.GetProperty("parameters").GetProperty("samples").GetInt32());
    }
}
