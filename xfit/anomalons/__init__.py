"""The UV side: anomaly cancellation, anomalon classification, naturalness."""
