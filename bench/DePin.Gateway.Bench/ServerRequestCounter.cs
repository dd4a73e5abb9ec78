using System.Diagnostics.Metrics;

namespace DePin.Gateway.Bench;

/// <summary>Counts the API silo's finished HTTP requests from ASP.NET Core's own <c>http.server.request.duration</c>.</summary>
sealed class ServerRequestCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _requests;
    private long _failed;

    public ServerRequestCounter()
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration") l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            Interlocked.Increment(ref _requests);
            foreach (var tag in tags)
            {
                if (tag.Key == "http.response.status_code" && tag.Value is int status && status >= 300) Interlocked.Increment(ref _failed);
            }
        });
        _listener.Start();
    }

    /// <summary>Requests finished so far, and how many of them not with 2xx.</summary>
    public (long Requests, long Failed) Read() => (Interlocked.Read(ref _requests), Interlocked.Read(ref _failed));

    public void Dispose() => _listener.Dispose();
}
