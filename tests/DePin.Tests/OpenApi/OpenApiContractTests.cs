using System.Text.Json;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.OpenApi;

/// <summary>
/// The API contract client apps build on: the document the real API serves lints clean with Redocly's recommended
/// rules, and a TypeScript client generated from it (openapi-typescript + openapi-fetch, checked by tsc --strict) runs
/// against that API: submits a job, follows it to Completed, lists it, and meets the documented 404 and 401.
/// </summary>
public sealed class OpenApiContractTests : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);
    private readonly string _work = Path.Combine(RepoTools.Root, ".run", "openapi-contract-" + Guid.NewGuid().ToString("N")[..8]);

    public OpenApiContractTests() => Directory.CreateDirectory(_work);

    [Fact]
    public async Task The_served_document_lints_clean_with_the_recommended_rules()
    {
        await using var silo = await TestSilo.StartAsync(workers: false);
        var document = await DownloadAsync(silo);
        var (code, output, errors) = await RepoTools.RunSeparatelyAsync(RepoTools.NpmBin("redocly"), ["lint", document, "--format=json"], _work, ToolTimeout);
        using var report = JsonDocument.Parse(output);
        var totals = report.RootElement.GetProperty("totals");
        Assert.True(totals.GetProperty("errors").GetInt32() == 0 && totals.GetProperty("warnings").GetInt32() == 0, $"redocly lint (exit {code}):\n{output}\n{errors}");
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task A_typescript_client_generated_from_the_document_type_checks_and_runs_against_the_api()
    {
        await using var silo = await TestSilo.StartAsync(workers: true);
        var document = await DownloadAsync(silo);
        foreach (var file in Directory.GetFiles(Path.Combine(RepoTools.Root, "tests", "DePin.Tests", "OpenApi", "client")))
            File.Copy(file, Path.Combine(_work, Path.GetFileName(file)));
        await File.WriteAllTextAsync(Path.Combine(_work, "package.json"), """{ "private": true, "type": "module" }""");

        await AssertRunsAsync(RepoTools.NpmBin("openapi-typescript"), [document, "-o", "schema.d.ts"], "openapi-typescript");
        await AssertRunsAsync(RepoTools.NpmBin("tsc"), ["-p", "."], "tsc --strict on the generated client");
        var output = await AssertRunsAsync("node", [Path.Combine("out", "contract-client.js"), silo.BaseAddress.ToString().TrimEnd('/'), silo.ClientKey],
            "the generated client against the API");
        Assert.Contains("\"status\":\"Completed\"", output);
    }

    private async Task<string> DownloadAsync(TestSilo silo)
    {
        using var anonymous = silo.CreateHttp(null);
        var path = Path.Combine(_work, "openapi.json");
        await File.WriteAllBytesAsync(path, await anonymous.GetByteArrayAsync("/openapi/v1.json"));
        return path;
    }

    private async Task<string> AssertRunsAsync(string program, string[] arguments, string what)
    {
        var (code, output) = await RepoTools.RunAsync(program, arguments, _work, ToolTimeout);
        Assert.True(code == 0, $"{what} failed (exit {code}):\n{output}");
        return output;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
