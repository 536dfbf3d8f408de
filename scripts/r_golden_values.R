# Golden values from R's reference implementations for the competing-risks and time-dependent
# HSCT engine (core/cumulative_incidence.py, core/time_dependent.py).
#
#   Rscript scripts/r_golden_values.R            (from the repository root)
#
# Needs R with survival and cmprsk (Debian: r-cran-survival, r-cran-cmprsk). Writes CSVs into
# tests/golden_r/: the input data sets themselves (so the Python tests read exactly what R read)
# and the values R computes from them. The tests read the CSVs only; they never need R.
# Numbers are written with 17 significant digits so doubles survive the round trip.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

out_dir <- file.path("tests", "golden_r")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

write_golden <- function(df, name) {
  df[] <- lapply(df, function(col) {
    if (is.numeric(col)) ifelse(is.na(col), NA, sprintf("%.17g", col)) else col
  })
  write.csv(df, file.path(out_dir, name), row.names = FALSE, quote = FALSE, na = "")
}

versions <- data.frame(package = c("R", "survival", "cmprsk"),
                       version = c(paste(R.version$major, R.version$minor, sep = "."),
                                   as.character(packageVersion("survival")),
                                   as.character(packageVersion("cmprsk"))))
write.csv(versions, file.path(out_dir, "r_versions.csv"), row.names = FALSE, quote = FALSE)

# ---------------------------------------------------------------------------------------------
# Competing risks data sets
# ---------------------------------------------------------------------------------------------

# 1. survival::mgus2 (Kyle et al.): progression to a plasma-cell malignancy (cause 1) with death
#    as the competing risk (cause 2), time in months; the survival package's own competing-risks
#    example. Integer months give many ties between the causes and censoring.
mgus <- with(mgus2, data.frame(
  id = id,
  time = ifelse(pstat == 0, futime, ptime),
  cause = ifelse(pstat == 0, 2 * death, 1),
  sex = as.character(sex),
  age_group = cut(age, c(0, 59, 74, 200), labels = c("lt60", "60to74", "ge75"))
))
mgus$age_group <- as.character(mgus$age_group)
write_golden(mgus, "mgus2_competing.csv")

# 2. The example of ?cuminc: exponential times, three groups, two strata, two causes.
set.seed(2)
ss <- rexp(100)
gg <- factor(sample(1:3, 100, replace = TRUE), 1:3, c("a", "b", "c"))
cc <- sample(0:2, 100, replace = TRUE)
strt <- sample(1:2, 100, replace = TRUE)
cuminc_example <- data.frame(time = ss, cause = cc, group = as.character(gg), stratum = strt)
write_golden(cuminc_example, "cuminc_example.csv")

# 3. Twelve hand-made patients: events of both causes and censorings on the same days, a
#    cause's event as the last time, and two-event ties (the tie correction in the variance).
ties <- data.frame(
  time  = c(1, 1, 1, 2, 3, 3, 3, 3, 5, 6, 6, 8),
  cause = c(1, 2, 0, 1, 1, 1, 2, 0, 0, 2, 2, 1),
  group = c("x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x", "y")
)
write_golden(ties, "ties_competing.csv")

cif_rows <- function(fit, dataset, grouping) {
  fit$Tests <- NULL
  do.call(rbind, lapply(names(fit), function(name) {
    part <- fit[[name]]
    words <- strsplit(name, " ")[[1]]
    data.frame(dataset = dataset, grouping = grouping,
               group = paste(words[-length(words)], collapse = " "), cause = words[length(words)],
               step = seq_along(part$time), time = part$time, estimate = part$est, variance = part$var)
  }))
}

timepoint_rows <- function(fit, times, dataset, grouping) {
  tp <- timepoints(fit, times)
  do.call(rbind, lapply(rownames(tp$est), function(name) {
    words <- strsplit(name, " ")[[1]]
    data.frame(dataset = dataset, grouping = grouping,
               group = paste(words[-length(words)], collapse = " "), cause = words[length(words)],
               time = as.numeric(colnames(tp$est)), estimate = tp$est[name, ], variance = tp$var[name, ])
  }))
}

test_rows <- function(fit, dataset, grouping, strata, rho = 0) {
  tests <- fit$Tests
  data.frame(dataset = dataset, grouping = grouping, strata = strata, rho = rho, cause = rownames(tests),
             statistic = tests[, "stat"], p_value = tests[, "pv"], df = tests[, "df"],
             # cuminc's p is 1 − pchisq(), 0 below 1e-16; the upper tail keeps the small ones
             p_upper_tail = pchisq(tests[, "stat"], tests[, "df"], lower.tail = FALSE))
}

curves <- list()
points <- list()
tests <- list()

fit <- with(mgus, cuminc(time, cause))
curves[[length(curves) + 1]] <- cif_rows(fit, "mgus2", "all")
points[[length(points) + 1]] <- timepoint_rows(fit, c(0, 0.5, 1, 12, 60, 119.5, 120, 240, 424, 500), "mgus2", "all")
for (grouping in c("sex", "age_group")) {
  fit <- cuminc(mgus$time, mgus$cause, mgus[[grouping]])
  curves[[length(curves) + 1]] <- cif_rows(fit, "mgus2", grouping)
  points[[length(points) + 1]] <- timepoint_rows(fit, c(12, 60, 120, 240), "mgus2", grouping)
  tests[[length(tests) + 1]] <- test_rows(fit, "mgus2", grouping, "none")
}
fit <- with(mgus, cuminc(time, cause, age_group, strata = sex))
tests[[length(tests) + 1]] <- test_rows(fit, "mgus2", "age_group", "sex")
fit <- with(mgus, cuminc(time, cause, age_group, rho = 1))
tests[[length(tests) + 1]] <- test_rows(fit, "mgus2", "age_group", "none", rho = 1)

fit <- with(cuminc_example, cuminc(time, cause, group, stratum))
curves[[length(curves) + 1]] <- cif_rows(fit, "cuminc_example", "group")
tests[[length(tests) + 1]] <- test_rows(fit, "cuminc_example", "group", "stratum")
fit <- with(cuminc_example, cuminc(time, cause, group))
tests[[length(tests) + 1]] <- test_rows(fit, "cuminc_example", "group", "none")

fit <- with(ties, cuminc(time, cause))
curves[[length(curves) + 1]] <- cif_rows(fit, "ties", "all")
points[[length(points) + 1]] <- timepoint_rows(fit, c(0, 1, 2, 2.5, 3, 7.9, 8, 9), "ties", "all")
fit <- with(ties, cuminc(time, cause, group))
curves[[length(curves) + 1]] <- cif_rows(fit, "ties", "group")
tests[[length(tests) + 1]] <- test_rows(fit, "ties", "group", "none")

write_golden(do.call(rbind, curves), "cuminc_curves.csv")
write_golden(do.call(rbind, points), "cuminc_timepoints.csv")
write_golden(do.call(rbind, tests), "gray_tests.csv")

# Aalen–Johansen through survival::survfit on the multi-state form (status as a factor): the
# same estimator, computed by another implementation. Its std.err is the infinitesimal
# jackknife, a different variance from cuminc's, so only estimates and at-risk counts are kept.
aj <- survfit(Surv(time, factor(cause, 0:2, c("censored", "progression", "death"))) ~ 1, data = mgus)
write_golden(data.frame(time = aj$time, n_risk = aj$n.risk[, 1], event_free = aj$pstate[, 1],
                        cause_1 = aj$pstate[, 2], cause_2 = aj$pstate[, 3]),
             "survfit_aalen_johansen_mgus2.csv")

# ---------------------------------------------------------------------------------------------
# Time-dependent HSCT: the Stanford heart transplant data (survival::jasa), set up as in the
# survival package's vignette on time-dependent covariates ("Using time dependent covariates
# and time dependent coefficients in the Cox model"): day-0 deaths moved to day 0.5 and a
# transplant on the day of death moved half a day earlier, so it precedes the death.
# ---------------------------------------------------------------------------------------------
jasa$subject <- seq_len(nrow(jasa))
hsct <- with(jasa, data.frame(
  subject = subject,
  futime = pmax(0.5, as.numeric(fu.date - accept.dt)),
  txtime = ifelse(tx.date == fu.date, as.numeric(tx.date - accept.dt) - 0.5, as.numeric(tx.date - accept.dt)),
  fustat = fustat
))
write_golden(hsct, "jasa_hsct.csv")

sdata <- tmerge(hsct[, c("subject", "fustat")], hsct, id = subject,
                death = event(futime, fustat), trt = tdc(txtime), options = list(idname = "subject"))
write_golden(sdata[, c("subject", "tstart", "tstop", "death", "trt")], "jasa_counting_process.csv")

# Simon–Makuch: product-limit curves on the counting-process risk sets, log(−log) band.
sm <- survfit(Surv(tstart, tstop, death) ~ trt, data = sdata, conf.type = "log-log")
sm_strata <- rep(sub("trt=", "", names(sm$strata)), sm$strata)
write_golden(data.frame(trt = sm_strata, time = sm$time, n_risk = sm$n.risk, n_event = sm$n.event,
                        n_censor = sm$n.censor, survival = sm$surv, std_err = sm$std.err,
                        lower = sm$lower, upper = sm$upper),
             "simon_makuch_jasa.csv")

# Mantel–Byar = the score test of coxph with transplant as a time-dependent covariate; the
# hazard ratio with its Wald interval. Efron is coxph's default; Breslow kept for the contrast.
cox_rows <- lapply(c("efron", "breslow"), function(ties) {
  fit <- coxph(Surv(tstart, tstop, death) ~ trt, data = sdata, ties = ties)
  s <- summary(fit)
  data.frame(ties = ties, coefficient = unname(coef(fit)), std_err = sqrt(fit$var[1, 1]),
             hazard_ratio = s$conf.int[1, "exp(coef)"], lower = s$conf.int[1, "lower .95"],
             upper = s$conf.int[1, "upper .95"], wald_p = s$coefficients[1, "Pr(>|z|)"],
             score_statistic = unname(fit$score), score_p = unname(s$sctest["pvalue"]),
             loglik_null = fit$loglik[1], loglik = fit$loglik[2], n_intervals = fit$n, events = fit$nevent)
})
write_golden(do.call(rbind, cox_rows), "cox_time_dependent_jasa.csv")

# Landmark analysis at day 30 and day 0: patients still under follow-up at the landmark, grouped
# by transplant by then, followed from the landmark; log-rank by survdiff.
landmark_curves <- list()
landmark_tests <- list()
for (landmark in c(0, 30)) {
  at_landmark <- subset(hsct, futime >= landmark)
  at_landmark$hsct <- !is.na(at_landmark$txtime) & at_landmark$txtime <= landmark
  km <- survfit(Surv(futime - landmark, fustat) ~ hsct, data = at_landmark, conf.type = "log-log")
  strata <- rep(sub("hsct=", "", names(km$strata)), km$strata)
  landmark_curves[[length(landmark_curves) + 1]] <- data.frame(
    landmark = landmark, hsct = strata, time = km$time, n_risk = km$n.risk, n_event = km$n.event,
    survival = km$surv, std_err = km$std.err, lower = km$lower, upper = km$upper)
  lr <- survdiff(Surv(futime - landmark, fustat) ~ hsct, data = at_landmark)
  landmark_tests[[length(landmark_tests) + 1]] <- data.frame(
    landmark = landmark, included = nrow(at_landmark), excluded = nrow(hsct) - nrow(at_landmark),
    hsct_patients = sum(at_landmark$hsct), statistic = lr$chisq,
    p_value = pchisq(lr$chisq, df = 1, lower.tail = FALSE))
}
write_golden(do.call(rbind, landmark_curves), "landmark_jasa.csv")
write_golden(do.call(rbind, landmark_tests), "landmark_tests_jasa.csv")

cat("golden values written to", out_dir, "\n")
