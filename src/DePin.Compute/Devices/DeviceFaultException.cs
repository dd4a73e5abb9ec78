namespace DePin.Compute.Devices;

/// <summary>
/// A unit failed because the device (accelerator) faulted. The device has already been recycled when this is thrown;
/// the worker should report the unit as failed (or retry it) and keep running.
/// </summary>
public sealed class DeviceFaultException(string deviceId, Exception inner)
    : Exception($"device {deviceId} faulted: {inner.Message}", inner)
{
    /// <summary>Id of the device that faulted.</summary>
    public string DeviceId { get; } = deviceId;
}
