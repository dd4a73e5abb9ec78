using System.Net;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.EndToEnd;

/// <summary>The GPU code path without a GPU: the worker runs the ILGPU kernels on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuWorkerTests
{
    [Fact]
    public async Task Silo_with_the_ilgpu_backend_runs_saxpy_through_ilgpu_kernels()
    {
        await using var silo = await TestSilo.StartAsync(workers: true, new Dictionary<string, string?> { ["Worker:CpuBackend"] = "Ilgpu" });
        var node = await Eventually.WaitAsync(() => silo.Http.GetAsync<NodeView[]>("/nodes"), n => n.Length == 1, "node registration");
        Assert.Equal("IlgpuCpu", node[0].Capabilities.DeviceKind);

        var x = Enumerable.Range(0, 2048).Select(i => (float)i).ToArray();
        var response = await silo.Http.PostJobAsync(new { kernel = "saxpy", parameters = new { a = -1.5, x, y = x, unitSize = 512 } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsync<JobView>();
        job = await Eventually.WaitAsync(() => silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(), "saxpy on ILGPU");
        Assert.Equal(JobStatus.Completed, job.Status);

        using var doc = JsonDocument.Parse(await silo.Http.GetByteArrayAsync($"/jobs/{job.JobId}/result"));
        var y = doc.RootElement.GetProperty("y").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        for (var i = 0; i < x.Length; i++) Assert.Equal(-0.5f * i, y[i], 3);
    }
}
