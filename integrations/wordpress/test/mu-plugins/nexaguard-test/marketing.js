// Test fixture: counts its runs in window.__ngTestMarketing (the blocking tests read it).
window.__ngTestMarketing = (window.__ngTestMarketing || 0) + 1;
