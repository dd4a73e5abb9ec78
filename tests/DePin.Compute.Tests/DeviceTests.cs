using System.Diagnostics;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Kernels;
using ILGPU.Runtime;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class DeviceTests(IlgpuCpuFixture fx)
{
    [Fact]
    public void DiscoverWithoutGpusGivesOneVectorCpu()
    {
        var devices = DeviceInventory.Discover(new ComputeOptions { EnableGpus = false });
        var d = Assert.Single(devices);
        Assert.Equal(("cpu0", DeviceKind.VectorCpu), (d.Id, d.Kind));
        Assert.Null(d.Accelerator);
        Assert.True(d.ComputeUnits >= 1);
        Assert.True(d.WarpSize >= 1);
        Assert.Throws<InvalidOperationException>(() => d.GetOrAdd("k", _ => "v"));
        d.Recycle(); // no-op
        d.Dispose();
    }

    [Fact]
    public void DiscoverDefaultsListsGpusFirstOrTheCpu()
    {
        var devices = DeviceInventory.Discover(new ComputeOptions());
        try
        {
            Assert.NotEmpty(devices);
            Assert.Equal(devices.Count, devices.Select(d => d.Id).Distinct().Count());
            if (devices.Any(d => d.IsGpu))
            {
                Assert.All(devices, d => Assert.True(d.IsGpu));
                Assert.Equal(devices.OrderBy(d => d.Kind == DeviceKind.Cuda ? 0 : 1).Select(d => d.Id), devices.Select(d => d.Id));
            }
            else
            {
                Assert.Equal(DeviceKind.VectorCpu, Assert.Single(devices).Kind);
            }
        }
        finally
        {
            foreach (var d in devices) d.Dispose();
        }
    }

    [Fact]
    public void DiscoverIlgpuCpuBackend()
    {
        var devices = DeviceInventory.Discover(new ComputeOptions { EnableGpus = false, CpuBackend = CpuBackend.Ilgpu });
        using var d = Assert.Single(devices);
        Assert.Equal(DeviceKind.IlgpuCpu, d.Kind);
        Assert.NotNull(d.Accelerator);
        Assert.Equal(AcceleratorType.CPU, d.Accelerator!.AcceleratorType);
    }

    [Fact]
    public void CacheCompilesOnceAndPoolsBuffers()
    {
        var d = fx.Ilgpu;
        int calls = 0;
        var first = d.GetOrAdd("test.value", _ => { calls++; return new object(); });
        var second = d.GetOrAdd("test.value", _ => { calls++; return new object(); });
        Assert.Same(first, second);
        Assert.Equal(1, calls);

        var b1 = d.GetBuffer<float>("test.buffer", 100);
        var b2 = d.GetBuffer<float>("test.buffer", 1000);
        Assert.Same(b1, b2);
        Assert.True(b1.Length >= 1000);
        var b3 = d.GetBuffer<float>("test.buffer", 5000);
        Assert.NotSame(b1, b3);
        Assert.True(b3.Length >= 5000);
    }

    [Fact]
    public void FaultRecyclesTheAcceleratorAndTheDeviceKeepsWorking()
    {
        using var d = ComputeDevice.CreateIlgpuCpu("cpu9");
        var kernel = KernelCatalog.Default.Get("saxpy");
        var plan = Run.Plan(kernel, """{"a":2,"x":[1,2,3],"y":[1,1,1]}""");
        var before = Run.Execute(kernel, d, plan);
        var accelerator = d.Accelerator;
        d.GetOrAdd("test.value", _ => "cached");

        var e = Assert.Throws<DeviceFaultException>(() => d.Run<int>(_ => throw new AcceleratorFaultForTest()));
        Assert.Equal("cpu9", e.DeviceId);
        Assert.Equal(1, d.Generation);
        Assert.NotSame(accelerator, d.Accelerator);
        Assert.Equal("fresh", d.GetOrAdd("test.value", _ => "fresh")); // cache cleared

        Assert.Equal(Run.Digest(before), Run.Digest(Run.Execute(kernel, d, plan)));

        // Ordinary exceptions (bad unit input) are not treated as device faults.
        Assert.Throws<ArgumentException>(() => kernel.Execute(d, new KernelUnit(plan.CanonicalParameters, 0, 1, new byte[7])));
        Assert.Equal(1, d.Generation);

        // Recycling again (as a worker's catch block may) is harmless, and after Dispose it is a no-op.
        d.Recycle();
        Assert.Equal(Run.Digest(before), Run.Digest(Run.Execute(kernel, d, plan)));
        d.Dispose();
        d.Recycle();
        Assert.Throws<ObjectDisposedException>(() => kernel.Execute(d, new KernelUnit(plan.CanonicalParameters, 0, 1, plan.UnitInputs[0])));
    }

    private sealed class AcceleratorFaultForTest() : ObjectDisposedException("accelerator", "simulated lost context");

    [Fact]
    public void ProbeVectorCpuIsQuickAndPositive()
    {
        using var d = ComputeDevice.CreateVectorCpu();
        var sw = Stopwatch.StartNew();
        var b = DeviceProbe.Run(d, TimeSpan.FromMilliseconds(200));
        Assert.True(sw.ElapsedMilliseconds < 10_000, $"probe took {sw.ElapsedMilliseconds} ms (budget 200 ms; bound loose for busy CI machines)");
        Assert.True(b.SgemmGflops > 0.01, b.ToString());
        Assert.True(b.CopyGBps > 0.01, b.ToString());
    }

    [Fact]
    public void ProbeIlgpuCpu()
    {
        var b = DeviceProbe.Run(fx.Ilgpu, TimeSpan.FromMilliseconds(100));
        Assert.True(b.SgemmGflops > 0, b.ToString());
        Assert.True(b.CopyGBps > 0, b.ToString());
    }

    [Fact]
    public void VectorSgemmMatchesNaive()
    {
        const int n = 70;
        var r = new Random(3);
        var a = Enumerable.Range(0, n * n).Select(_ => (float)r.NextDouble()).ToArray();
        var b = Enumerable.Range(0, n * n).Select(_ => (float)r.NextDouble()).ToArray();
        var c = new float[n * n];
        DeviceProbe.VectorSgemm(n, a, b, c);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
                Assert.True(Math.Abs(s - c[i * n + j]) < 1e-3, $"c[{i},{j}]");
            }
    }
}
