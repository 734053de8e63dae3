"""Head pose and gaze from webcam frames."""
