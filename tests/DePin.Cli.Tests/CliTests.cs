using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DePin.Cli.Tests;

public class CliTests
{
    private static Task<Outcome> Run(StubHandler? handler, params string[] args) => CliRun.RunAsync(handler, null, args);

    private static void NoStackTrace(Outcome o)
    {
        Assert.DoesNotContain("   at ", o.Err);
        Assert.DoesNotContain("Exception", o.Err);
    }

    [Fact]
    public async Task UsageError_MissingParameters_NonZeroWithMessage()
    {
        var o = await Run(new StubHandler(_ => throw new InvalidOperationException("no request expected")), "submit", "saxpy");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("Kernel parameters are required", o.Err);
    }

    [Fact]
    public async Task UsageError_UnknownCommand_NonZero()
    {
        var o = await Run(null, "frobnicate");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("frobnicate", o.Err);
    }

    [Fact]
    public async Task UsageError_BadDuration_NonZero()
    {
        var o = await Run(null, "wait-ready", "--timeout", "soon");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("'soon' is not a duration", o.Err);
    }

    [Fact]
    public async Task InvalidParamsJson_IsAnErrorWithoutRequest()
    {
        var stub = new StubHandler(_ => throw new InvalidOperationException("no request expected"));
        var o = await Run(stub, "submit", "saxpy", "--params", "{not json");
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: the parameters in --params are not valid JSON", o.Err);
        Assert.Empty(stub.Requests);
        NoStackTrace(o);
    }

    [Fact]
    public async Task ConnectionRefused_Exit2_NamesTheUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Cli.RunAsync(["kernels", "--api", $"http://127.0.0.1:{port}"], stdout, stderr);

        Assert.Equal(2, code);
        var err = stderr.ToString();
        Assert.Contains($"http://127.0.0.1:{port}/", err);
        Assert.Contains("cannot connect", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public async Task MalformedAddress_PrintsApiProblem_Exit1()
    {
        var stub = new StubHandler(r => StubHandler.Problem(HttpStatusCode.BadRequest, "Malformed address",
            $"'{Uri.UnescapeDataString(r.RequestUri!.AbsolutePath["/accounts/".Length..])}' is not an EVM address (0x followed by 40 hex digits)."));
        var o = await Run(stub, "account", "0xnope");

        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: Malformed address: '0xnope' is not an EVM address (0x followed by 40 hex digits).", o.Err.Trim());
        Assert.Equal("", o.Out);
        Assert.Equal("/accounts/0xnope", Assert.Single(stub.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Submit_PrintsJobId_AndSendsOptions()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("job42", "Submitted", 0, 8, "montecarlo-pi"), HttpStatusCode.Accepted));
        var o = await Run(stub, "submit", "montecarlo-pi", "--params", """{"samples":1000,"units":8}""", "--redundancy", "2", "--priority", "5", "--max-price", "9000");

        Assert.Equal(0, o.ExitCode);
        Assert.Equal("job42", o.Out.Trim());
        using var body = JsonDocument.Parse(Assert.Single(stub.Requests).Body!);
        Assert.Equal("montecarlo-pi", body.RootElement.GetProperty("kernel").GetString());
        Assert.Equal(8, body.RootElement.GetProperty("parameters").GetProperty("units").GetInt32());
        Assert.Equal(2, body.RootElement.GetProperty("redundancy").GetInt32());
        Assert.Equal(5, body.RootElement.GetProperty("priority").GetInt32());
        Assert.Equal(9000, body.RootElement.GetProperty("maxPriceMicroCredits").GetInt64());
    }

    [Fact]
    public async Task Submit_ParamsFile_Wait_ShowsProgressAndSummary()
    {
        var file = Path.Combine(Path.GetTempPath(), $"depin-params-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"a":2,"x":[1],"y":[1]}""");
        int polls = 0;
        var stub = new StubHandler(r =>
        {
            if (r.Method == HttpMethod.Post) return StubHandler.Json(StubHandler.JobJson("j7", "Submitted", 0, 2), HttpStatusCode.Accepted);
            return ++polls < 3
                ? StubHandler.Json(StubHandler.JobJson("j7", "Running", polls - 1, 2))
                : StubHandler.Json(StubHandler.JobJson("j7", "Completed", 2, 2).Replace("\"resultSummary\":null", "\"resultSummary\":\"saxpy n=1 a=2 y[0]=3\""));
        });
        try
        {
            var o = await Run(stub, "submit", "saxpy", "--params-file", file, "--wait");
            Assert.Equal(0, o.ExitCode);
            Assert.StartsWith("j7", o.Out);
            Assert.Contains("Completed", o.Out);
            Assert.Contains("saxpy n=1 a=2 y[0]=3", o.Out);
            Assert.Contains("0/2", o.Err);
            Assert.Contains("2/2", o.Err);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static HttpResponseMessage Result(byte[] bytes, string contentType)
    {
        var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
        r.Content.Headers.ContentType = new(contentType);
        r.Headers.Add("X-Result-Digest", Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return r;
    }

    [Fact]
    public async Task Result_Binary_RefusedOnTerminal_WrittenWithOutput()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        var stub = new StubHandler(_ => Result(png, "image/png"));

        var refused = await Run(stub, "result", "j1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refusing to write binary", refused.Err);
        Assert.Contains("-o", refused.Err);

        var path = Path.Combine(Path.GetTempPath(), $"depin-{Guid.NewGuid():N}.png");
        try
        {
            var written = await Run(stub, "result", "j1", "-o", path);
            Assert.Equal(0, written.ExitCode);
            Assert.Equal(png, await File.ReadAllBytesAsync(path));
            Assert.Contains("verified", written.Out);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Result_Json_PrintsToStdout()
    {
        var stub = new StubHandler(_ => Result(Encoding.UTF8.GetBytes("""{"pi":3.1415}"""), "application/json"));
        var o = await Run(stub, "result", "j1");
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("""{"pi":3.1415}""", o.Out.Trim());
    }

    [Fact]
    public async Task Result_DigestMismatch_Exit1()
    {
        var stub = new StubHandler(_ =>
        {
            var r = Result(Encoding.UTF8.GetBytes("{}"), "application/json");
            r.Headers.Remove("X-Result-Digest");
            r.Headers.Add("X-Result-Digest", new string('0', 64));
            return r;
        });
        var o = await Run(stub, "result", "j1");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("corrupt", o.Err);
        NoStackTrace(o);
    }

    [Fact]
    public async Task Jobs_Json_IsMachineReadable_AndTextIsATable()
    {
        var stub = new StubHandler(_ => StubHandler.Json("""[{"jobId":"abc","kernel":"saxpy","status":"Running","unitCount":3,"submittedAt":"2025-01-01T00:00:00Z"}]"""));
        var json = await Run(stub, "jobs", "--status", "running", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal("Running", doc.RootElement[0].GetProperty("status").GetString());
        Assert.Equal("/jobs?offset=0&limit=100&status=Running", stub.Requests[0].PathAndQuery);

        var text = await Run(stub, "jobs");
        Assert.Contains("JOB", text.Out);
        Assert.Contains("abc", text.Out);
    }

    [Fact]
    public async Task CloseEpoch_NothingToClose()
    {
        var o = await Run(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.NoContent)), "close-epoch");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("nothing to close", o.Out);
    }

    [Fact]
    public async Task Cancel_FinishedJob_Conflict()
    {
        var o = await Run(new StubHandler(_ => StubHandler.Problem(HttpStatusCode.Conflict, "Job finished", "Job 'j1' is already Completed.")), "cancel", "j1");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: Job finished: Job 'j1' is already Completed.", o.Err.Trim());
    }

    [Fact]
    public async Task WaitReady_SucceedsOnceHealthy()
    {
        int calls = 0;
        var stub = new StubHandler(_ => ++calls < 3 ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : new HttpResponseMessage(HttpStatusCode.OK));
        var o = await Run(stub, "wait-ready", "--timeout", "10s");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("ready", o.Out);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task WaitReady_TimesOut_Exit2()
    {
        var o = await Run(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)), "wait-ready", "--timeout", "50ms");
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("was not ready", o.Err);
    }

    [Fact]
    public async Task Demo_RunsAllJobs_WritesPng_ClosesEpoch()
    {
        const string Operator = "0x1111111111111111111111111111111111111111";
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 9, 9, 9];
        var kernels = new Dictionary<string, string>();
        string settlement = """{"mode":"Off","enabled":false,"rpcUrl":null,"chainId":null,"distributorAddress":null,"tokenAddress":null,"settlerAddress":null,"weiPerMicroCredit":"1000000000000"}""";
        int epochPolls = 0;
        var saxpyResult = Encoding.UTF8.GetBytes("{\"y\":[" + string.Join(",", Enumerable.Range(0, Cli.DemoSaxpyLength).Select(i => 2 * i + 1)) + "]}");
        var stub = new StubHandler(r =>
        {
            var path = r.RequestUri!.AbsolutePath;
            if (path == "/health") return new HttpResponseMessage(HttpStatusCode.OK);
            if (path == "/nodes")
                return StubHandler.Json($$"""[{"nodeId":"n1","operatorAddress":"{{Operator}}","siloAddress":"S1","capabilities":{"deviceName":"CPU","deviceKind":"VectorCpu","memoryBytes":1024,"computeUnits":4,"warpSize":8,"sgemmGflops":10,"copyGBps":5},"registeredAt":"2025-01-01T00:00:00Z","lastHeartbeat":"2025-01-01T00:00:00Z","online":true,"unitsVerified":0,"unitsRejected":0,"reputation":1}]""");
            if (path == "/jobs" && r.Method == HttpMethod.Post)
            {
                var kernel = JsonDocument.Parse(r.Content!.ReadAsStringAsync().Result).RootElement.GetProperty("kernel").GetString()!;
                var id = "job-" + kernel;
                lock (kernels) kernels[id] = kernel;
                return StubHandler.Json(StubHandler.JobJson(id, "Submitted", 0, 4, kernel), HttpStatusCode.Accepted);
            }
            if (path.StartsWith("/jobs/", StringComparison.Ordinal) && path.EndsWith("/result", StringComparison.Ordinal))
            {
                var id = path.Split('/')[2];
                string kernel;
                lock (kernels) kernel = kernels[id];
                return kernel switch
                {
                    "montecarlo-pi" => Result(Encoding.UTF8.GetBytes("""{"pi":3.14159,"hits":1,"samples":2}"""), "application/json"),
                    "saxpy" => Result(saxpyResult, "application/json"),
                    _ => Result(png, "image/png"),
                };
            }
            if (path.StartsWith("/jobs/", StringComparison.Ordinal))
            {
                var id = path.Split('/')[2];
                string kernel;
                lock (kernels) kernel = kernels[id];
                return StubHandler.Json(StubHandler.JobJson(id, "Completed", 4, 4, kernel));
            }
            if (path == "/epochs/close")
                return StubHandler.Json($$"""{"epoch":1,"closedAt":"2025-01-01T00:00:00Z","entries":[{"address":"{{Operator}}","cumulativeMicroCredits":12000,"deltaMicroCredits":12000}],"totalCumulativeMicroCredits":12000,"epochMicroCredits":12000,"state":"NotSent","merkleRoot":null,"transactionHash":null}""");
            if (path == "/settlement") return StubHandler.Json(settlement);
            if (path == "/epochs/1")
                return StubHandler.Json(Interlocked.Increment(ref epochPolls) < 2
                    ? $$"""{"epoch":1,"closedAt":"2025-01-01T00:00:00Z","entries":[],"totalCumulativeMicroCredits":12000,"epochMicroCredits":12000,"state":"Sent","merkleRoot":"0xroot","transactionHash":"0xfeed"}"""
                    : $$"""{"epoch":1,"closedAt":"2025-01-01T00:00:00Z","entries":[],"totalCumulativeMicroCredits":12000,"epochMicroCredits":12000,"state":"Confirmed","merkleRoot":"0xroot","transactionHash":"0xfeed"}""");
            if (path == "/accounts/" + Operator)
                return StubHandler.Json($$"""{"address":"{{Operator}}","cumulativeMicroCredits":12000,"unitsCredited":12,"settledCumulativeMicroCredits":12000,"lastEpoch":1,"lastCreditAt":"2025-01-01T00:00:00Z","nodes":["n1"]}""");
            return StubHandler.Problem(HttpStatusCode.NotFound, "Not found", path);
        });
        var outDir = Path.Combine(Path.GetTempPath(), $"depin-demo-{Guid.NewGuid():N}");
        try
        {
            var o = await Run(stub, "demo", "--out", outDir);
            Assert.True(o.ExitCode == 0, o.Out + o.Err);
            Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(outDir, "mandelbrot.png")));
            Assert.Contains("pi ~ 3.14159", o.Out);
            Assert.Contains("y[0..8] = [1, 3, 5, 7, 9, 11, 13, 15, ...]", o.Out);
            Assert.Contains("all match 2*x+y", o.Out);
            Assert.Contains("NotSent", o.Out);
            Assert.Contains(Operator, o.Out);
            Assert.Contains("0.012000 credits", o.Out);
            Assert.Contains("recorded as NotSent", o.Out);
            Assert.Contains("Settlement:Mode=DevChain", o.Out);
            var submitted = stub.Requests.Where(r => r.Method == HttpMethod.Post && r.PathAndQuery == "/jobs").Select(r => JsonDocument.Parse(r.Body!)).ToList();
            Assert.Equal(3, submitted.Count);
            var pi = submitted.Single(d => d.RootElement.GetProperty("kernel").GetString() == "montecarlo-pi");
            Assert.Equal(200_000_000, pi.RootElement.GetProperty("parameters").GetProperty("samples").GetInt64());
            Assert.Equal(64, pi.RootElement.GetProperty("parameters").GetProperty("units").GetInt32());

            var json = await Run(stub, "demo", "--out", outDir, "--json");
            Assert.Equal(0, json.ExitCode);
            using var doc = JsonDocument.Parse(json.Out);
            Assert.Equal(1, doc.RootElement.GetProperty("epoch").GetProperty("epoch").GetInt64());
            Assert.False(doc.RootElement.GetProperty("settlement").GetProperty("info").GetProperty("enabled").GetBoolean());

            // Settlement on (dev chain), operator is not anvil dev account #1: wait for Confirmed, print root and tx, no claim.
            settlement = """{"mode":"DevChain","enabled":true,"rpcUrl":"http://127.0.0.1:1","chainId":31337,"distributorAddress":"0x5FbDB2315678afecb367f032d93F642f64180aa3","tokenAddress":"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512","settlerAddress":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","weiPerMicroCredit":"1000000000000"}""";
            var onChain = await Run(stub, "demo", "--out", outDir, "--json");
            Assert.True(onChain.ExitCode == 0, onChain.Out + onChain.Err);
            Assert.Contains("epoch 1: Sent (tx 0xfeed)", onChain.Err);
            Assert.Contains("epoch 1 confirmed: merkle root 0xroot", onChain.Err);
            Assert.Contains("settlement transaction 0xfeed", onChain.Err);
            Assert.Contains("no node is operated by anvil dev account #1", onChain.Err);
            using var onChainDoc = JsonDocument.Parse(onChain.Out);
            var settled = onChainDoc.RootElement.GetProperty("settlement");
            Assert.Equal("Confirmed", settled.GetProperty("epoch").GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, settled.GetProperty("claim").ValueKind);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
