# Golden values from R's maxstat for the cut-point tests (tests/test_cutpoints.py reads them; the
# tests never run R). Inputs come from scripts/cutpoint_golden_inputs.py:
#
#   python scripts/cutpoint_golden_inputs.py && Rscript scripts/r_golden_maxstat.R
#
# For each tests/golden_r/maxstat_input_<name>.csv (x, time_days, event, y) it writes
#   maxstat_<name>.csv       one row per outcome and p-value method: M, estimated cut-point, p
#   maxstat_<name>_cuts.csv  the standardised statistic at every admissible cut-point
# CR/CRi is tested with smethod = "Data" (scores 1/0), overall survival with "LogRank".
suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
})

dir <- file.path("tests", "golden_r")
inputs <- list.files(dir, pattern = "^maxstat_input_.*\\.csv$", full.names = TRUE)
version <- as.character(packageVersion("maxstat"))

fit <- function(formula, data, smethod, pmethod) {
  set.seed(20240601)
  args <- list(formula = formula, data = data, smethod = smethod, pmethod = pmethod,
               minprop = 0.1, maxprop = 0.9)
  if (pmethod == "condMC") args$B <- 100000
  if (pmethod == "exactGauss") { args$abseps <- 1e-5; args$maxpts <- 2e6 }
  do.call(maxstat.test, args)
}

for (path in inputs) {
  name <- sub("^maxstat_input_(.*)\\.csv$", "\\1", basename(path))
  d <- read.csv(path)
  outcomes <- list(
    cr_cri = list(formula = y ~ x, data = d, smethod = "Data"),
    os = list(formula = Surv(time_days, event) ~ x, data = d[!is.na(d$time_days), ], smethod = "LogRank")
  )
  summary <- data.frame()
  cuts <- data.frame()
  for (outcome in names(outcomes)) {
    o <- outcomes[[outcome]]
    for (pmethod in c("Lau94", "exactGauss", "condMC")) {
      m <- fit(o$formula, o$data, o$smethod, pmethod)
      summary <- rbind(summary, data.frame(
        outcome = outcome, pmethod = pmethod, n = nrow(o$data),
        statistic = sprintf("%.12f", m$statistic), estimate = sprintf("%.12g", m$estimate),
        p_value = sprintf("%.12g", m$p.value), maxstat_version = version))
    }
    cuts <- rbind(cuts, data.frame(outcome = outcome, cut = sprintf("%.12g", m$cuts),
                                   statistic = sprintf("%.12f", m$stats)))
  }
  write.csv(summary, file.path(dir, paste0("maxstat_", name, ".csv")), row.names = FALSE, quote = FALSE)
  write.csv(cuts, file.path(dir, paste0("maxstat_", name, "_cuts.csv")), row.names = FALSE, quote = FALSE)
  cat("wrote", file.path(dir, paste0("maxstat_", name, ".csv")), "\n")
}
